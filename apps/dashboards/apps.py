"""The dashboards app: each role's start page in the admin (top floor)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "apps.dashboards"
    verbose_name = _("Dashboards")

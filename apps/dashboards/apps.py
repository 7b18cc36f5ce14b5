"""The dashboards app: each role's start page and the phone pages in the admin (top floor)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "apps.dashboards"
    verbose_name = _("Dashboards")

    def ready(self):
        from django.contrib import admin

        # Django's "Site administration" says nothing to a guide on a phone.
        admin.site.index_title = _("Dashboard")

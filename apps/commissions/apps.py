"""The commissions app: orders, the commission ledger and its settlement."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "apps.commissions"
    verbose_name = _("Commissions")

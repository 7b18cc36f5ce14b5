"""The incentives app: monthly targets, bonus plans paid at month close, and guide points."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "apps.incentives"
    verbose_name = _("Incentives")

    def ready(self):
        from apps.commissions.ledger_checks import ledger_check_register
        from apps.incentives import checks

        ledger_check_register(checks.incentives_ledger_check)

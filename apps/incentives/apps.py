"""The incentives app: monthly targets, bonus plans paid at month close, and guide points."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    name = "apps.incentives"
    verbose_name = _("Incentives")

    def ready(self):
        from apps.commissions.ledger_checks import ledger_check_register
        from apps.commissions.reports import report_column_register, report_leaderboard_register
        from apps.incentives import checks, report

        ledger_check_register(checks.incentives_ledger_check)
        report_column_register("points", report.report_points)
        report_leaderboard_register(report.report_leaderboard)

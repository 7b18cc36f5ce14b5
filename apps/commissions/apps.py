"""The commissions app: orders, the commission ledger and its settlement."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommissionsConfig(AppConfig):
    name = "apps.commissions"
    verbose_name = _("Commissions")

    def ready(self):
        from apps.commissions import receivers
        from apps.customers.events import membership_bound, membership_erased

        membership_bound.connect(
            receivers.membership_bound_reattribute_orders, dispatch_uid="commissions"
        )
        membership_erased.connect(
            receivers.membership_erased_pseudonymise_orders, dispatch_uid="commissions"
        )

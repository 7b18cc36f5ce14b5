"""The members app: sign-ups bound to the nearest store and a guide."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "apps.customers"
    verbose_name = _("Members")

    def ready(self):
        from apps.customers import receivers
        from apps.guides.events import guide_available, guide_left
        from apps.stores.events import store_closed

        store_closed.connect(receivers.store_closed_relocate_members, dispatch_uid="customers")
        guide_left.connect(receivers.guide_left_hand_over_members, dispatch_uid="customers")
        guide_available.connect(
            receivers.guide_available_take_unguided_members, dispatch_uid="customers"
        )

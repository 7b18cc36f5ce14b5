"""The recruiting app: guides' and stores' QR codes and the public member sign-up page."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecruitingConfig(AppConfig):
    name = "apps.recruiting"
    verbose_name = _("Recruiting")

    def ready(self):
        from apps.customers.events import membership_erased
        from apps.recruiting import receivers

        membership_erased.connect(
            receivers.membership_erased_forget_verifications, dispatch_uid="recruiting"
        )

"""The engagement app: follow-ups, tags and notes that keep guides in touch with members."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "apps.engagement"
    verbose_name = _("Follow-ups")

    def ready(self):
        from apps.customers.events import membership_consent_withdrawn, membership_erased
        from apps.engagement import receivers
        from apps.guides.events import guide_left

        guide_left.connect(receivers.guide_left_move_follow_ups, dispatch_uid="engagement")
        membership_consent_withdrawn.connect(
            receivers.membership_consent_withdrawn_stop_follow_ups, dispatch_uid="engagement"
        )
        membership_erased.connect(receivers.membership_erased_scrub, dispatch_uid="engagement")

"""The engagement app: follow-ups, tags and notes that keep guides in touch with members."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "apps.engagement"
    verbose_name = _("Follow-ups")

"""The recruiting app: guides' and stores' QR codes and the public member sign-up page."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecruitingConfig(AppConfig):
    name = "apps.recruiting"
    verbose_name = _("Recruiting")

"""The stores app: brands, regions and stores (the ground the others stand on)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "apps.stores"
    verbose_name = _("Stores")

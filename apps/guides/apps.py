"""The guides app: store staff, and who may see which rows."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    name = "apps.guides"
    verbose_name = _("Guides")

    def ready(self):
        from apps.core.scoping import scope_resolver_set
        from apps.guides.scopes import user_scope

        scope_resolver_set(user_scope)

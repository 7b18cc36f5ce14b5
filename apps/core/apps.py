from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_defaults(sender, using, **kwargs):
    # Roles and the default beat schedule are rows, not code: migrate creates
    # the missing ones and never touches what HQ edited in the admin.
    from apps.core.roles import roles_ensure_groups
    from apps.core.schedules import periodic_tasks_ensure

    roles_ensure_groups(using=using)
    periodic_tasks_ensure(using=using)


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = _("Core")

    def ready(self):
        post_migrate.connect(_ensure_defaults, sender=self, dispatch_uid="core_ensure_defaults")

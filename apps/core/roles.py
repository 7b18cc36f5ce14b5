"""The roles people and systems play, as Django groups."""

from django.contrib.auth.models import Group, Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    HQ_OPS = "hq_ops", _("HQ operations")
    REGION_MANAGER = "region_manager", _("Region manager")
    STORE_MANAGER = "store_manager", _("Store manager")
    GUIDE = "guide", _("Guide")
    INTEGRATION = "integration", _("Integration (POS / e-commerce)")


ALL_ACTIONS = ("add", "change", "delete", "view")
VIEW_ONLY = ("view",)
_FIELD_ROLE_APPS = {
    "stores": VIEW_ONLY,
    "guides": VIEW_ONLY,
    "customers": VIEW_ONLY,
    "commissions": VIEW_ONLY,
}

# Admin permissions each role's group starts with; which rows a role sees is
# decided by queryset scoping, not by these.
ROLE_PERMISSIONS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.HQ_OPS: {
        "stores": ALL_ACTIONS,
        "guides": ALL_ACTIONS,
        "customers": ALL_ACTIONS,
        "commissions": ALL_ACTIONS,
        "engagement": ALL_ACTIONS,
        "recruiting": VIEW_ONLY,
        # "resolve": retry or discard parked task messages.
        "core": ("view", "resolve"),
        "django_celery_beat": ALL_ACTIONS,
        "django_celery_results": VIEW_ONLY,
        "authtoken": ALL_ACTIONS,
    },
    Role.REGION_MANAGER: _FIELD_ROLE_APPS,
    Role.STORE_MANAGER: _FIELD_ROLE_APPS,
    Role.GUIDE: _FIELD_ROLE_APPS,
    Role.INTEGRATION: {},
}


def roles_ensure_groups(*, using: str = "default") -> None:
    """Create a group for every role and grant the role's starting permissions.

    Adds missing permissions only, so what HQ granted by hand stays.
    """
    for role in Role:
        group, _created = Group.objects.using(using).get_or_create(name=role.value)
        wanted = Permission.objects.none()
        for app_label, actions in ROLE_PERMISSIONS[role].items():
            wanted = wanted | Permission.objects.using(using).filter(
                content_type__app_label=app_label,
                codename__regex=rf"^({'|'.join(actions)})_",
            )
        group.permissions.add(*wanted)


def user_roles(user) -> set[str]:
    """Return the role names of ``user``; a superuser counts as HQ operations."""
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached.add(Role.HQ_OPS.value)
        user._role_names = cached
    return cached


def user_has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & {str(role) for role in roles})


def user_role_add(user, role: Role) -> None:
    group, _created = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)
    if hasattr(user, "_role_names"):
        del user._role_names

"""Which rows a user may see, worked out from their roles, their regions and their staff record.

Installed as the project's scope resolver (``apps.core.scoping``) when the
app is ready: the admin and the API of every app narrow their rows with it.
"""

from apps.core.roles import Role, user_roles
from apps.core.scoping import NOTHING, Scope
from apps.stores.selectors import region_descendant_ids


def user_scope(user) -> Scope:
    """Return the widest scope among the user's roles."""
    roles = user_roles(user)
    if roles & {Role.HQ_OPS.value, Role.INTEGRATION.value}:
        return Scope(everything=True, masks_phones=Role.HQ_OPS.value not in roles)
    region_ids: set[int] = set()
    store_ids: set[int] = set()
    if Role.REGION_MANAGER.value in roles:
        region_ids = region_descendant_ids(
            region_ids=list(user.managed_regions.values_list("pk", flat=True))
        )
    guide = getattr(user, "guide", None) if user.is_authenticated else None
    if guide is not None and not guide.is_active:
        # A deactivated staff record reaches nothing, even through a session
        # or token that outlived the deactivation.
        guide = None
    if guide is not None and Role.STORE_MANAGER.value in roles:
        store_ids.add(guide.store_id)
    if region_ids or store_ids:
        return Scope(region_ids=frozenset(region_ids), store_ids=frozenset(store_ids))
    if guide is not None and Role.GUIDE.value in roles:
        return Scope(guide_id=guide.pk)
    return NOTHING

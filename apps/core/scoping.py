"""Who sees which rows: one rule set for the admin and the API alike.

HQ operations and integrations see everything; a region manager sees the
stores of the regions they manage and every region below; a store manager
sees their store; a guide sees only what is theirs.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from apps.core.roles import Role, user_roles


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    store_ids: frozenset[int] = frozenset()
    guide_id: int | None = None
    masks_phones: bool = True

    @property
    def is_guide_only(self) -> bool:
        return not self.everything and self.guide_id is not None and not self.store_ids


NOTHING = Scope()


def scope_for_user(user) -> Scope:
    """Return the widest scope among the user's roles."""
    from apps.stores.selectors import region_descendant_ids

    roles = user_roles(user)
    if roles & {Role.HQ_OPS.value, Role.INTEGRATION.value}:
        return Scope(everything=True, masks_phones=Role.HQ_OPS.value not in roles)
    store_ids: set[int] = set()
    if Role.REGION_MANAGER.value in roles:
        from apps.stores.models import Store

        regions = region_descendant_ids(
            region_ids=list(user.managed_regions.values_list("pk", flat=True))
        )
        store_ids |= set(Store.objects.filter(region_id__in=regions).values_list("pk", flat=True))
    guide = getattr(user, "guide", None) if user.is_authenticated else None
    if guide is not None and Role.STORE_MANAGER.value in roles:
        store_ids.add(guide.store_id)
    if store_ids:
        return Scope(store_ids=frozenset(store_ids))
    if guide is not None and Role.GUIDE.value in roles:
        return Scope(guide_id=guide.pk)
    return NOTHING


def scope_for_request(request) -> Scope:
    """Return the scope of the request's user, worked out once per request."""
    scope = getattr(request, "_scrm_scope", None)
    if scope is None:
        scope = scope_for_user(request.user)
        request._scrm_scope = scope
    return scope


def scope_queryset(
    queryset: QuerySet, scope: Scope, *, store_field: str | None = "store", guide_field="guide"
) -> QuerySet:
    """Narrow ``queryset`` to the rows ``scope`` may see.

    ``store_field`` and ``guide_field`` name the paths from the queryset's model to
    its store and guide; pass ``None`` where the model has no such link.
    """
    if scope.everything:
        return queryset
    if scope.store_ids and store_field is not None:
        return queryset.filter(**{f"{store_field}__in": scope.store_ids})
    if scope.guide_id is not None and guide_field is not None:
        return queryset.filter(**{guide_field: scope.guide_id})
    return queryset.none()


def mask_phone(phone: str) -> str:
    """Return ``13812345678`` as ``138****5678``."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"

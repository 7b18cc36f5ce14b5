"""Who sees which rows: one rule set for the admin and the API alike.

HQ operations and integrations see everything; a region manager sees the
stores of the regions they manage and every region below; a store manager
sees their store; a guide sees only what is theirs.

A region manager's scope is their regions, not their stores: a query joins
the row's store and keeps those whose region is among a handful of region
ids. Listing the stores instead would send every query a list of 50,000 ids
for a large region (parsed, planned and hashed on every request).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    # Stores of these regions (a region manager's regions and all below them)...
    region_ids: frozenset[int] = frozenset()
    # ...and these stores (a store manager's own).
    store_ids: frozenset[int] = frozenset()
    guide_id: int | None = None
    masks_phones: bool = True

    @property
    def is_guide_only(self) -> bool:
        return (
            not self.everything
            and self.guide_id is not None
            and not self.store_ids
            and not self.region_ids
        )

    @property
    def is_one_store(self) -> bool:
        return not self.everything and not self.region_ids and len(self.store_ids) == 1

    def covers_store(self, *, store_id: int, region_id: int | None) -> bool:
        """Whether the store ``store_id`` (in region ``region_id``) is within the scope."""
        return (
            self.everything
            or store_id in self.store_ids
            or (region_id is not None and region_id in self.region_ids)
        )


NOTHING = Scope()


ScopeResolver = Callable[[Any], Scope]
_resolver: ScopeResolver | None = None


def scope_resolver_set(resolver: ScopeResolver) -> None:
    """Install the function that works out a user's scope.

    Which stores and guides a user may see depends on the region tree and on
    staff records, which live in apps above this one; the app that knows them
    installs the resolver when it is ready (``apps.guides.scopes``).
    """
    global _resolver
    _resolver = resolver


def scope_for_user(user) -> Scope:
    """Return the widest scope among the user's roles."""
    if _resolver is None:
        raise ImproperlyConfigured("No scope resolver is installed: is apps.guides installed?")
    return _resolver(user)


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
    if (scope.region_ids or scope.store_ids) and store_field is not None:
        region_field = "region_id" if store_field == "pk" else f"{store_field}__region_id"
        condition = Q()
        if scope.region_ids:
            condition |= Q(**{f"{region_field}__in": sorted(scope.region_ids)})
        if scope.store_ids:
            condition |= Q(**{f"{store_field}__in": sorted(scope.store_ids)})
        return queryset.filter(condition)
    if scope.guide_id is not None and guide_field is not None:
        return queryset.filter(**{guide_field: scope.guide_id})
    return queryset.none()


def mask_phone(phone: str) -> str:
    """Return ``13812345678`` as ``138****5678``."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"

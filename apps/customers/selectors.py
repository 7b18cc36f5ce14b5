"""Reads for member assignment and the members API."""

import threading

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps.core.db import rows_fetch
from apps.core.scoping import Scope, scope_queryset
from apps.customers.models import Customer, Membership
from apps.customers.nearest import StoreIndex
from apps.guides.models import Guide
from apps.stores.models import Store, StoreNetworkVersion

_index_lock = threading.Lock()
_index_cache: dict[int, tuple[int, StoreIndex]] = {}


def store_network_version() -> int:
    return StoreNetworkVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def store_index_for_brand(brand_id: int) -> StoreIndex:
    """Return the nearest-store index of the brand's active stores.

    Kept in memory per process and rebuilt when the store network version
    moved, which costs one indexed read per call.
    """
    version = store_network_version()
    cached = _index_cache.get(brand_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _index_lock:
        rows = rows_fetch(
            Store.objects.filter(is_active=True, brands=brand_id)
            .order_by()
            .values_list("pk", "code", "latitude", "longitude", "service_radius_km")
        )
        columns = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
        index = StoreIndex.build(*columns)
        _index_cache[brand_id] = (version, index)
        return index


def store_index_forget(brand_id: int) -> None:
    """Drop the cached index of a brand; the next lookup rebuilds it."""
    _index_cache.pop(brand_id, None)


def store_carries_brand(*, store: Store, brand_id: int) -> bool:
    return store.is_active and store.brands.filter(pk=brand_id).exists()


# Past this many ids a bulk read asks for the whole brand (or uses one array
# parameter) instead of spelling out an IN list.
LARGE_ID_SET = 1_000


def active_guides_of_stores(store_ids: list[int]) -> list[tuple[int, int]]:
    """Return (guide id, store id) of the active guides of many stores.

    Ordered by store, then employee no., so a guide's position ranks it
    within its store.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, store_id FROM {Guide._meta.db_table} "  # noqa: S608 - table name from model metadata
                "WHERE is_active AND store_id = ANY(%s) ORDER BY store_id, employee_no",
                [list(store_ids)],
            )
            return cursor.fetchall()
    rows = []
    for start in range(0, len(store_ids), LARGE_ID_SET):
        batch = store_ids[start : start + LARGE_ID_SET]
        rows += Guide.objects.filter(store_id__in=batch, is_active=True).values_list(
            "store_id", "employee_no", "pk"
        )
    return [(pk, store_id) for store_id, _employee_no, pk in sorted(rows)]


def guide_loads_of_brand(*, brand_id: int) -> dict[int, int]:
    """Return how many memberships of the brand every guide holding any has."""
    return dict(
        Membership.objects.filter(brand_id=brand_id, guide__isnull=False)
        .order_by()
        .values("guide_id")
        .annotate(n=Count("pk"))
        .values_list("guide_id", "n")
    )


def guide_load_subquery(*, brand_id: int):
    """Return an expression counting a guide's memberships of the brand (for ``annotate``)."""
    counts = (
        Membership.objects.filter(guide=OuterRef("pk"), brand_id=brand_id)
        .order_by()
        .values("guide")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def guide_loads(*, guide_ids: list[int], brand_id: int) -> dict[int, int]:
    """Return how many memberships of the brand each guide holds (0 for none)."""
    counts = dict(
        Membership.objects.filter(guide_id__in=guide_ids, brand_id=brand_id)
        .order_by()
        .values("guide_id")
        .annotate(n=Count("pk"))
        .values_list("guide_id", "n")
    )
    return {guide_id: counts.get(guide_id, 0) for guide_id in guide_ids}


def active_guides_of_store(store_id: int) -> QuerySet[Guide]:
    return Guide.objects.filter(store_id=store_id, is_active=True).order_by("pk")


def membership_list(*, scope: Scope) -> QuerySet[Membership]:
    queryset = Membership.objects.select_related("customer", "brand", "store", "guide")
    return scope_queryset(queryset, scope)


def customer_list(
    *, scope: Scope, queryset: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """Return the customers holding at least one membership ``scope`` may see.

    A semi-join rather than a join through memberships, so a customer with
    several memberships in scope is listed once without DISTINCT.
    """
    queryset = Customer.objects.all() if queryset is None else queryset
    if scope.everything:
        return queryset
    memberships = scope_queryset(Membership.objects.order_by(), scope)
    return queryset.filter(pk__in=memberships.values("customer_id"))

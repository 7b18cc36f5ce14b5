"""Each process's nearest-store indexes, one per brand, kept until the store network changes.

Building a brand's k-d tree reads all its active stores; assigning a member
then costs microseconds. A process keeps the trees in memory and compares
the ``StoreNetworkVersion`` counter (one indexed read) before each use, so a
store opening, closing or moving is seen by the very next assignment.
"""

import threading

from apps.core.db import rows_fetch
from apps.customers.nearest import StoreIndex
from apps.stores.models import Brand, Store, StoreNetworkVersion

_lock = threading.Lock()
_indexes: dict[int, tuple[int, StoreIndex]] = {}


def store_network_version() -> int:
    return StoreNetworkVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def store_index_for_brand(brand_id: int) -> StoreIndex:
    """Return the nearest-store index of the brand's active stores, rebuilt if stale.

    A store reaches members within its service radius and never beyond the
    brand's farthest assignment distance (``Brand.max_assign_km``).
    """
    version = store_network_version()
    cached = _indexes.get(brand_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        brand_reach = (
            Brand.objects.filter(pk=brand_id).values_list("max_assign_km", flat=True).first()
        )
        rows = rows_fetch(
            Store.objects.filter(is_active=True, brands=brand_id)
            .order_by()
            .values_list("pk", "code", "latitude", "longitude", "service_radius_km")
        )
        columns = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
        columns[4] = [_reach_km(radius, brand_reach) for radius in columns[4]]
        index = StoreIndex.build(*columns)
        _indexes[brand_id] = (version, index)
        return index


def _reach_km(service_radius_km: float | None, brand_reach_km: int | None) -> float | None:
    """The distance a store serves for a brand: the nearer of its radius and the brand's limit."""
    limits = [km for km in (service_radius_km, brand_reach_km) if km is not None]
    return min(limits) if limits else None


def store_index_forget(brand_id: int | None = None) -> None:
    """Drop the cached index of a brand (of every brand if None); the next lookup rebuilds it."""
    if brand_id is None:
        _indexes.clear()
    else:
        _indexes.pop(brand_id, None)

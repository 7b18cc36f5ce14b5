"""Each process's nearest-store indexes, one per brand, kept until the store network changes.

Building a brand's k-d tree reads all its active stores; assigning a member
then costs microseconds. A process keeps the trees in memory and compares
the ``StoreNetworkVersion`` counter (one indexed read) before each use, so a
store opening, closing or moving is seen by the very next assignment.
"""

import threading

from apps.core.db import rows_fetch
from apps.customers.nearest import StoreIndex
from apps.stores.models import Store, StoreNetworkVersion

_lock = threading.Lock()
_indexes: dict[int, tuple[int, StoreIndex]] = {}


def store_network_version() -> int:
    return StoreNetworkVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def store_index_for_brand(brand_id: int) -> StoreIndex:
    """Return the nearest-store index of the brand's active stores, rebuilt if stale."""
    version = store_network_version()
    cached = _indexes.get(brand_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        rows = rows_fetch(
            Store.objects.filter(is_active=True, brands=brand_id)
            .order_by()
            .values_list("pk", "code", "latitude", "longitude", "service_radius_km")
        )
        columns = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
        index = StoreIndex.build(*columns)
        _indexes[brand_id] = (version, index)
        return index


def store_index_forget(brand_id: int | None = None) -> None:
    """Drop the cached index of a brand (of every brand if None); the next lookup rebuilds it."""
    if brand_id is None:
        _indexes.clear()
    else:
        _indexes.pop(brand_id, None)

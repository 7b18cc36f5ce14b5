"""Writes to brands, regions and stores."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from apps.stores.events import store_closed
from apps.stores.models import Brand, Region, Store, StoreNetworkVersion

STORE_EDITABLE_FIELDS = (
    "name",
    "kind",
    "region",
    "address",
    "city",
    "latitude",
    "longitude",
    "is_active",
    "service_radius_km",
)


def store_network_changed() -> None:
    """Bump the version that invalidates every process's nearest-store index."""
    updated = StoreNetworkVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        StoreNetworkVersion.objects.get_or_create(pk=1, defaults={"version": 1})


@transaction.atomic
def brand_create(*, code: str, name: str, **fields) -> Brand:
    brand = Brand(code=code, name=name, **fields)
    brand.full_clean()
    brand.save()
    return brand


@transaction.atomic
def brand_update(*, brand: Brand, **fields) -> Brand:
    """Change a brand; a new farthest-assignment distance refreshes every nearest-store index."""
    reach_before = Brand.objects.filter(pk=brand.pk).values_list("max_assign_km", flat=True).first()
    for field, value in fields.items():
        setattr(brand, field, value)
    brand.full_clean()
    brand.save()
    if brand.max_assign_km != reach_before:
        store_network_changed()
    return brand


def _region_check_no_cycle(region: Region) -> None:
    seen = {region.pk}
    parent = region.parent
    while parent is not None:
        if parent.pk in seen:
            raise ValidationError({"parent": _("A region cannot sit below itself.")})
        seen.add(parent.pk)
        parent = parent.parent


def region_create(*, code: str, name: str, parent: Region | None = None) -> Region:
    region = Region(code=code, name=name, parent=parent)
    region.full_clean()
    region.save()
    return region


def region_update(*, region: Region, **fields) -> Region:
    for field, value in fields.items():
        setattr(region, field, value)
    region.full_clean()
    _region_check_no_cycle(region)
    region.save()
    return region


@transaction.atomic
def store_create(*, code: str, brands: Iterable[Brand] = (), **fields) -> Store:
    store = Store(code=code, **fields)
    store.full_clean()
    store.save()
    store.brands.set(brands)
    store_changed(store=store, was_active=False)
    return store


@transaction.atomic
def store_update(*, store: Store, brands: Iterable[Brand] | None = None, **fields) -> Store:
    unknown = set(fields) - set(STORE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    was_active = Store.objects.filter(pk=store.pk).values_list("is_active", flat=True).first()
    for field, value in fields.items():
        setattr(store, field, value)
    store.full_clean()
    store.save()
    if brands is not None:
        store.brands.set(brands)
    store_changed(store=store, was_active=bool(was_active))
    return store


def store_changed(*, store: Store, was_active: bool) -> None:
    """Let the rest of the system see a store change.

    Every nearest-store index is refreshed before the next assignment, and a
    store that just closed is announced (``apps.stores.events.store_closed``).
    """
    store_network_changed()
    if was_active and not store.is_active:
        store_closed.send(sender=Store, store_id=store.pk)

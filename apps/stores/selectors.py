"""Reads of brands, regions and stores."""

from django.db.models import QuerySet

from apps.stores.models import Region, Store


def region_descendant_ids(*, region_ids: list[int]) -> set[int]:
    """Return the given regions and every region below them."""
    parents = dict(Region.objects.values_list("pk", "parent_id"))
    children: dict[int, list[int]] = {}
    for pk, parent_id in parents.items():
        children.setdefault(parent_id, []).append(pk)
    found, frontier = set(), list(region_ids)
    while frontier:
        pk = frontier.pop()
        if pk in found:
            continue
        found.add(pk)
        frontier.extend(children.get(pk, []))
    return found


def store_list() -> QuerySet[Store]:
    return Store.objects.select_related("region").prefetch_related("brands")

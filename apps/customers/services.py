"""Writes for members: joining a brand and binding to a store and a guide."""

import heapq
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.geo import haversine_km
from apps.core.phones import phone_normalise
from apps.customers.models import AssignmentEvent, Customer, Membership
from apps.customers.selectors import (
    active_guides_of_store,
    guide_loads,
    store_carries_brand,
    store_index_for_brand,
)
from apps.guides.models import Guide
from apps.stores.models import Brand, Store

logger = logging.getLogger(__name__)

Status = Membership.Status
Reason = Membership.UnassignedReason
EventReason = AssignmentEvent.Reason

# Rows per statement when bulk paths read or write by id lists.
ID_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class JoinResult:
    membership: Membership
    created: bool


def _explicit_choice_validate(
    *, brand: Brand, store: Store | None, guide: Guide | None
) -> Store | None:
    """Check a QR code's store and guide; return the store (the guide's, if only it was given)."""
    field = "store"
    if guide is not None:
        if store is not None and guide.store_id != store.pk:
            raise ValidationError({"guide": "This guide does not work in the given store."})
        if not guide.is_active:
            raise ValidationError({"guide": "This guide is no longer active."})
        if store is None:
            store, field = guide.store, "guide"
    if store is not None and not store_carries_brand(store=store, brand_id=brand.pk):
        raise ValidationError({field: "This store is closed or does not carry the brand."})
    return store


def member_join(
    *,
    brand: Brand,
    phone: str,
    name: str = "",
    source: str,
    latitude: float | None = None,
    longitude: float | None = None,
    store: Store | None = None,
    guide: Guide | None = None,
    joined_at: datetime | None = None,
) -> JoinResult:
    """Make the phone's owner a member of the brand and queue their assignment.

    Joining again returns the existing membership unchanged. Coordinates are
    WGS-84; an explicit store (and guide) comes from a store's QR code.
    """
    from apps.customers.tasks import membership_assign_task

    phone = phone_normalise(phone)
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": "Give latitude and longitude together."})
    existing = Membership.objects.filter(customer__phone=phone, brand=brand).first()
    if existing is not None:
        return JoinResult(existing, created=False)
    store = _explicit_choice_validate(brand=brand, store=store, guide=guide)
    try:
        with transaction.atomic():
            customer, _created = Customer.objects.get_or_create(
                phone=phone, defaults={"name": name}
            )
            membership = Membership(
                customer=customer,
                brand=brand,
                latitude=latitude,
                longitude=longitude,
                requested_store=store,
                requested_guide=guide,
                source=source,
                joined_at=joined_at or timezone.now(),
            )
            # Uniqueness is left to the database: the race is caught below.
            membership.full_clean(validate_unique=False, validate_constraints=False)
            membership.save()
    except IntegrityError:
        # A concurrent join of the same phone and brand won the race.
        existing = Membership.objects.filter(customer__phone=phone, brand=brand).first()
        if existing is None:
            raise
        return JoinResult(existing, created=False)
    transaction.on_commit(lambda: membership_assign_task.delay(membership.pk))
    return JoinResult(membership, created=True)


def _guide_lock_least_loaded(
    *, store_id: int, brand_id: int, exclude_ids: Iterable[int] = ()
) -> Guide | None:
    """Lock the store's active guides and return the one with the fewest members.

    The row locks make concurrent assignments to one store take turns, so
    their counts never drift apart by more than one.
    """
    guides = list(
        active_guides_of_store(store_id).exclude(pk__in=list(exclude_ids)).select_for_update()
    )
    if not guides:
        return None
    loads = guide_loads(guide_ids=[g.pk for g in guides], brand_id=brand_id)
    return min(guides, key=lambda g: (loads[g.pk], g.employee_no))


@transaction.atomic
def membership_assign(*, membership_id: int) -> Membership | None:
    """Bind a pending membership to its store and guide; a no-op once it is not pending."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("requested_store", "requested_guide")
        .filter(pk=membership_id)
        .first()
    )
    if membership is None or membership.assignment_status != Status.PENDING:
        return membership
    store, distance_km, reason = None, None, EventReason.NEW_MEMBER
    requested = membership.requested_store
    if requested is not None and store_carries_brand(store=requested, brand_id=membership.brand_id):
        store, reason = requested, EventReason.EXPLICIT
        if membership.latitude is not None:
            distance_km = haversine_km(
                membership.latitude, membership.longitude, store.latitude, store.longitude
            )
    elif membership.latitude is not None:
        index = store_index_for_brand(membership.brand_id)
        found, found_km = index.nearest([membership.latitude], [membership.longitude])
        if found[0] >= 0:
            store = Store.objects.get(pk=int(index.store_ids[found[0]]))
            distance_km = float(found_km[0])
    if store is None:
        membership.assignment_status = Status.UNASSIGNED
        membership.unassigned_reason = (
            Reason.NO_STORE_IN_RANGE if membership.latitude is not None else Reason.NO_LOCATION
        )
        membership.save(update_fields=["assignment_status", "unassigned_reason", "updated_at"])
        return membership
    guide = membership.requested_guide if reason == EventReason.EXPLICIT else None
    if guide is not None and not (guide.is_active and guide.store_id == store.pk):
        guide = None
    if guide is None:
        guide = _guide_lock_least_loaded(store_id=store.pk, brand_id=membership.brand_id)
    membership.store, membership.guide, membership.distance_km = store, guide, distance_km
    membership.assignment_status = Status.ASSIGNED
    membership.unassigned_reason = "" if guide else Reason.NO_GUIDE_AVAILABLE
    membership.bound_at = timezone.now()
    membership.save()
    AssignmentEvent.objects.create(
        membership=membership, to_store=store, to_guide=guide, reason=reason
    )
    return membership


# --- Bulk paths ----------------------------------------------------------------------------


@dataclass
class Placement:
    """Where one membership goes, as decided by a bulk path before guides are chosen."""

    membership_id: int
    brand_id: int
    status: str  # the status read, checked again when writing
    from_store_id: int | None
    from_guide_id: int | None
    to_store_id: int | None
    distance_km: float | None = None
    unassigned_reason: str = ""
    keep_guide: bool = False
    to_guide_id: int | None = None


def _batched(items: Sequence, size: int = ID_BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _placements_choose_guides(placements: list[Placement], *, exclude_guide_ids=()) -> None:
    """Give every placement with a store its guide: kept, or the least-loaded one.

    Loads are counted once for all affected guides, then updated as members are
    placed, so a batch spreads evenly ("water-filling") rather than piling onto
    whichever guide was emptiest at the start.
    """
    needing = [p for p in placements if p.to_store_id is not None and not p.keep_guide]
    for p in placements:
        if p.keep_guide:
            p.to_guide_id = p.from_guide_id
    if not needing:
        return
    store_ids = sorted({p.to_store_id for p in needing})
    excluded = set(exclude_guide_ids)
    guides_by_store: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for batch in _batched(store_ids):
        rows = (
            Guide.objects.filter(store_id__in=batch, is_active=True)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", "store_id", "employee_no")
        )
        for guide_id, store_id, employee_no in rows:
            if guide_id not in excluded:
                guides_by_store[store_id].append((guide_id, employee_no))
    all_guides = [g for guides in guides_by_store.values() for g, _no in guides]
    loads: dict[tuple[int, int], int] = defaultdict(int)
    for brand_id in {p.brand_id for p in needing}:
        for batch in _batched(all_guides):
            for guide_id, count in guide_loads(guide_ids=batch, brand_id=brand_id).items():
                loads[guide_id, brand_id] = count
    for p in placements:
        # Members about to leave a guide no longer weigh on them.
        if p.from_guide_id is not None and p.to_guide_id != p.from_guide_id:
            loads[p.from_guide_id, p.brand_id] -= 1
    heaps: dict[tuple[int, int], list] = {}
    for p in needing:
        key = (p.to_store_id, p.brand_id)
        heap = heaps.get(key)
        if heap is None:
            heap = [
                (loads[guide_id, p.brand_id], employee_no, guide_id)
                for guide_id, employee_no in guides_by_store.get(p.to_store_id, [])
            ]
            heapq.heapify(heap)
            heaps[key] = heap
        if not heap:
            p.to_guide_id = None
            continue
        load, employee_no, guide_id = heap[0]
        p.to_guide_id = guide_id
        heapq.heapreplace(heap, (load + 1, employee_no, guide_id))


def _placements_write(placements: list[Placement], *, reason: str, actor_id=None) -> int:
    """Write placements and their events; return how many memberships changed.

    A membership whose status, store or guide changed since it was read is
    left alone: another path got there first.
    """
    now = timezone.now()
    rows = []
    for p in placements:
        if p.to_store_id is None:
            status, why = Status.UNASSIGNED, p.unassigned_reason
        else:
            status = Status.ASSIGNED
            why = "" if p.to_guide_id is not None else Reason.NO_GUIDE_AVAILABLE
        if (p.to_store_id, p.to_guide_id) == (p.from_store_id, p.from_guide_id) and (
            p.status == status
        ):
            continue
        rows.append((p, status, why))
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        return _placements_write_postgres(rows, reason=reason, actor_id=actor_id, now=now)
    return _placements_write_portable(rows, reason=reason, actor_id=actor_id, now=now)


def _placements_write_postgres(rows, *, reason, actor_id, now) -> int:
    membership_table = Membership._meta.db_table
    event_table = AssignmentEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE placement_tmp (
                membership_id bigint PRIMARY KEY, expect_status text,
                from_store_id bigint, from_guide_id bigint,
                to_store_id bigint, to_guide_id bigint,
                status text, reason text, distance_km double precision
            ) ON COMMIT DROP
            """
        )
        with cursor.cursor.copy(
            "COPY placement_tmp (membership_id, expect_status, from_store_id, from_guide_id,"
            " to_store_id, to_guide_id, status, reason, distance_km) FROM STDIN"
        ) as copy:
            for p, status, why in rows:
                copy.write_row(
                    (
                        p.membership_id, p.status, p.from_store_id, p.from_guide_id,
                        p.to_store_id, p.to_guide_id, status, why, p.distance_km,
                    )
                )  # fmt: skip
        cursor.execute(
            f"""
            WITH moved AS (
                UPDATE {membership_table} AS m
                SET store_id = t.to_store_id,
                    guide_id = t.to_guide_id,
                    assignment_status = t.status,
                    unassigned_reason = t.reason,
                    distance_km = CASE WHEN t.to_store_id IS NULL THEN NULL
                                       ELSE t.distance_km END,
                    bound_at = CASE
                        WHEN t.to_guide_id IS NULL AND t.to_store_id IS NULL THEN NULL
                        WHEN t.to_guide_id IS NOT DISTINCT FROM m.guide_id
                             AND t.to_store_id IS NOT DISTINCT FROM m.store_id THEN m.bound_at
                        ELSE %(now)s END,
                    updated_at = %(now)s
                FROM placement_tmp AS t
                WHERE m.id = t.membership_id
                  AND m.assignment_status = t.expect_status
                  AND m.store_id IS NOT DISTINCT FROM t.from_store_id
                  AND m.guide_id IS NOT DISTINCT FROM t.from_guide_id
                RETURNING m.id, t.from_store_id, t.from_guide_id, t.to_store_id, t.to_guide_id
            )
            , logged AS (
                INSERT INTO {event_table}
                    (membership_id, from_store_id, from_guide_id, to_store_id, to_guide_id,
                     reason, actor_id, created_at)
                SELECT id, from_store_id, from_guide_id, to_store_id, to_guide_id,
                       %(reason)s, %(actor_id)s, %(now)s
                FROM moved
                WHERE to_store_id IS NOT NULL OR from_store_id IS NOT NULL
                RETURNING 1
            )
            SELECT count(*) FROM moved
            """,  # noqa: S608 - table names come from model metadata, values are parameters
            {"now": now, "reason": str(reason), "actor_id": actor_id},
        )
        changed = cursor.fetchone()[0]
        cursor.execute("DROP TABLE placement_tmp")
    return changed


def _placements_write_portable(rows, *, reason, actor_id, now) -> int:
    events = []
    changed = 0
    for p, status, why in rows:
        same_binding = (p.to_store_id, p.to_guide_id) == (p.from_store_id, p.from_guide_id)
        updates = {
            "store_id": p.to_store_id,
            "guide_id": p.to_guide_id,
            "assignment_status": status,
            "unassigned_reason": why,
            "distance_km": p.distance_km if p.to_store_id is not None else None,
            "updated_at": now,
        }
        if not same_binding:
            updates["bound_at"] = now if p.to_store_id is not None else None
        updated = Membership.objects.filter(
            pk=p.membership_id,
            assignment_status=p.status,
            store_id=p.from_store_id,
            guide_id=p.from_guide_id,
        ).update(**updates)
        if not updated:
            continue
        changed += 1
        if p.to_store_id is not None or p.from_store_id is not None:
            events.append(
                AssignmentEvent(
                    membership_id=p.membership_id,
                    from_store_id=p.from_store_id,
                    from_guide_id=p.from_guide_id,
                    to_store_id=p.to_store_id,
                    to_guide_id=p.to_guide_id,
                    reason=reason,
                    actor_id=actor_id,
                )
            )
    AssignmentEvent.objects.bulk_create(events, batch_size=1000)
    return changed


def _placements_to_nearest(memberships: list[dict]) -> list[Placement]:
    """Place each membership (a dict of id, brand, location, binding) at its nearest store."""
    placements = []
    by_brand: dict[int, list[dict]] = defaultdict(list)
    for m in memberships:
        if m["latitude"] is None:
            placements.append(
                Placement(
                    m["pk"], m["brand_id"], m["assignment_status"], m["store_id"],
                    m["guide_id"], None, unassigned_reason=Reason.NO_LOCATION,
                )
            )  # fmt: skip
        else:
            by_brand[m["brand_id"]].append(m)
    for brand_id, group in by_brand.items():
        index = store_index_for_brand(brand_id)
        found, found_km = index.nearest(
            np.fromiter((m["latitude"] for m in group), float, len(group)),
            np.fromiter((m["longitude"] for m in group), float, len(group)),
        )
        store_ids = index.store_ids[np.maximum(found, 0)]
        for m, hit, store_id, km in zip(group, found, store_ids, found_km, strict=True):
            to_store = int(store_id) if hit >= 0 else None
            placements.append(
                Placement(
                    m["pk"], brand_id, m["assignment_status"], m["store_id"], m["guide_id"],
                    to_store, distance_km=float(km) if hit >= 0 else None,
                    unassigned_reason="" if hit >= 0 else Reason.NO_STORE_IN_RANGE,
                    keep_guide=to_store is not None and to_store == m["store_id"]
                    and m["guide_id"] is not None,
                )
            )  # fmt: skip
    return placements


_PLACEMENT_FIELDS = (
    "pk", "brand_id", "assignment_status", "store_id", "guide_id", "latitude", "longitude",
)  # fmt: skip


@transaction.atomic
def memberships_assign_pending(*, membership_ids: Iterable[int] | None = None) -> int:
    """Assign pending memberships in bulk (all of them, or the given ones); return the count.

    Members who joined through a QR code go through the single path, which
    honours their store and guide.
    """
    pending = Membership.objects.filter(assignment_status=Status.PENDING).order_by(
        "joined_at", "pk"
    )
    if membership_ids is not None:
        pending = pending.filter(pk__in=list(membership_ids))
    explicit_ids = list(pending.filter(requested_store__isnull=False).values_list("pk", flat=True))
    for membership_id in explicit_ids:
        membership_assign(membership_id=membership_id)
    rows = list(pending.filter(requested_store__isnull=True).values(*_PLACEMENT_FIELDS))
    placements = _placements_to_nearest(rows)
    _placements_choose_guides(placements)
    return _placements_write(placements, reason=EventReason.NEW_MEMBER) + len(explicit_ids)


@transaction.atomic
def memberships_recompute(*, actor_id: int | None = None) -> int:
    """Re-evaluate every located member who did not pick their store; move those now elsewhere."""
    memberships_assign_pending()
    rows = list(
        Membership.objects.filter(requested_store__isnull=True, latitude__isnull=False)
        .order_by("joined_at", "pk")
        .values(*_PLACEMENT_FIELDS)
    )
    placements = _placements_to_nearest(rows)
    _placements_choose_guides(placements)
    return _placements_write(placements, reason=EventReason.REBALANCED, actor_id=actor_id)


@transaction.atomic
def store_members_relocate(*, store_id: int, actor_id: int | None = None) -> int:
    """Move the members of a closed store to their next nearest eligible store.

    Members who gave no location are placed by the closed store's position.
    """
    store = Store.objects.filter(pk=store_id).first()
    if store is None or store.is_active:
        return 0
    rows = list(
        Membership.objects.filter(store_id=store_id)
        .order_by("joined_at", "pk")
        .values(*_PLACEMENT_FIELDS)
    )
    for row in rows:
        if row["latitude"] is None:
            row["latitude"], row["longitude"] = store.latitude, store.longitude
    placements = _placements_to_nearest(rows)
    _placements_choose_guides(placements)
    return _placements_write(placements, reason=EventReason.STORE_CLOSED, actor_id=actor_id)


@transaction.atomic
def guide_members_handover(*, guide_id: int, actor_id: int | None = None) -> int:
    """Hand a departed guide's members to the store's remaining guides, least-loaded first."""
    guide = Guide.objects.filter(pk=guide_id).first()
    if guide is None:
        return 0
    rows = Membership.objects.filter(guide_id=guide_id).order_by("joined_at", "pk")
    if guide.is_active:
        # Still working: only members bound to a store the guide moved away from.
        rows = rows.exclude(store_id=guide.store_id)
    placements = [
        Placement(r["pk"], r["brand_id"], r["assignment_status"], r["store_id"], r["guide_id"],
                  r["store_id"], distance_km=r["distance_km"])
        for r in rows.values(*_PLACEMENT_FIELDS, "distance_km")
    ]  # fmt: skip
    _placements_choose_guides(placements, exclude_guide_ids=[guide_id])
    return _placements_write(placements, reason=EventReason.GUIDE_LEFT, actor_id=actor_id)


@transaction.atomic
def store_unguided_members_assign(*, store_id: int) -> int:
    """Give the store's members who have no guide yet one of its (now available) guides."""
    rows = Membership.objects.filter(
        store_id=store_id, guide__isnull=True, assignment_status=Status.ASSIGNED
    ).order_by("joined_at", "pk")
    placements = [
        Placement(r["pk"], r["brand_id"], r["assignment_status"], r["store_id"], None,
                  r["store_id"], distance_km=r["distance_km"])
        for r in rows.values(*_PLACEMENT_FIELDS, "distance_km")
    ]  # fmt: skip
    _placements_choose_guides(placements)
    return _placements_write(placements, reason=EventReason.REBALANCED)


def pending_memberships_stale(*, older_than_seconds: int, limit: int) -> list[int]:
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Membership.objects.filter(assignment_status=Status.PENDING, joined_at__lt=cutoff)
        .order_by("joined_at")
        .values_list("pk", flat=True)[:limit]
    )

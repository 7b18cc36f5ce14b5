"""Bulk moves of memberships, column by column.

A bulk path (new members, a store closing, a guide leaving, a recompute)
decides where each membership goes as numpy columns, picks guides for all of
them at once and writes them with a few set-based statements. Services call
``placements_*``; nothing here is an entry point of its own.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache

import numpy as np
from celery import current_app
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.db import rows_fetch
from apps.core.sql import SQL, Identifier, Literal, render, sql_join, table
from apps.customers.events import membership_bound
from apps.customers.models import AssignmentEvent, Membership
from apps.customers.outbound_events import member_events_record
from apps.customers.selectors import (
    LARGE_ID_SET,
    active_guides_of_stores,
    guide_loads,
    guide_loads_of_brand,
)
from apps.customers.store_index import store_index_for_brand
from apps.guides.models import Guide

Status = Membership.Status
Reason = Membership.UnassignedReason

# Bulk moves of at least this many rows, outside an enclosing transaction, are
# written in batches of BULK_WRITE_BATCH on WRITE_CONNECTIONS connections.
PARALLEL_WRITE_MIN_ROWS = 20_000
BULK_WRITE_BATCH = 12_500
WRITE_CONNECTIONS = 2

# Columns read for every membership a bulk path considers.
PLACEMENT_FIELDS = (
    "pk", "brand_id", "assignment_status", "store_id", "guide_id", "latitude", "longitude",
    "distance_km",
)  # fmt: skip


@dataclass
class Placements:
    """Where a set of memberships goes. Id columns use 0 for "none"."""

    membership_id: np.ndarray
    brand_id: np.ndarray
    status: np.ndarray  # as read: the write only applies to rows still in this state
    from_store: np.ndarray
    from_guide: np.ndarray
    latitude: np.ndarray  # NaN where unknown
    longitude: np.ndarray
    to_store: np.ndarray
    to_guide: np.ndarray
    distance_km: np.ndarray  # NaN where none
    unassigned_reason: np.ndarray

    @classmethod
    def from_rows(cls, rows: list[tuple]) -> "Placements":
        """Build from ``PLACEMENT_FIELDS`` tuples; every membership stays where it is."""
        count = len(rows)
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(PLACEMENT_FIELDS)

        def ids(values):
            return np.fromiter((v or 0 for v in values), np.int64, count)

        def floats(values):
            return np.fromiter((np.nan if v is None else v for v in values), np.float64, count)

        from_store, from_guide = ids(columns[3]), ids(columns[4])
        return cls(
            membership_id=ids(columns[0]),
            brand_id=ids(columns[1]),
            status=np.array(columns[2], dtype=object),
            from_store=from_store,
            from_guide=from_guide,
            latitude=floats(columns[5]),
            longitude=floats(columns[6]),
            to_store=from_store.copy(),
            to_guide=from_guide.copy(),
            distance_km=floats(columns[7]),
            unassigned_reason=np.full(count, "", dtype=object),
        )

    def __len__(self) -> int:
        return len(self.membership_id)


def placements_transaction(placements: Placements):
    """Return the transaction a bulk move of this size runs in.

    Small moves run in one transaction that also locks the guides involved;
    large ones commit batch by batch (see ``placements_write``).
    """
    if len(placements) < PARALLEL_WRITE_MIN_ROWS:
        return transaction.atomic()
    return nullcontext()


def placements_read(queryset) -> Placements:
    return Placements.from_rows(rows_fetch(queryset.values_list(*PLACEMENT_FIELDS)))


def placements_to_nearest(placements: Placements) -> None:
    """Send every membership to its nearest eligible store (or to none, with the reason)."""
    located = ~np.isnan(placements.latitude)
    placements.to_store[~located] = 0
    placements.distance_km[~located] = np.nan
    placements.unassigned_reason[~located] = Reason.NO_LOCATION.value
    for brand_id in np.unique(placements.brand_id[located]):
        rows = np.nonzero(located & (placements.brand_id == brand_id))[0]
        index = store_index_for_brand(int(brand_id))
        found, found_km = index.nearest(placements.latitude[rows], placements.longitude[rows])
        hit = found >= 0
        placements.to_store[rows] = np.where(hit, index.store_ids[np.maximum(found, 0)], 0)
        placements.distance_km[rows] = found_km
        placements.unassigned_reason[rows[~hit]] = Reason.NO_STORE_IN_RANGE.value
        placements.unassigned_reason[rows[hit]] = ""


def placements_choose_guides(placements: Placements, *, exclude_guide_ids=()) -> None:
    """Give every membership with a store its guide, spreading them least-loaded first.

    A membership staying in its store keeps its guide unless that guide is
    excluded. The others fill the store's guides as if they joined one by one
    in order, each taking the guide with the fewest members of the brand (ties:
    lowest employee no.): that is the same as handing out, per store, the
    lowest (load, employee no.) "slots" where a guide with load L offers slots
    L, L+1, L+2, and so on.
    """
    excluded = np.array(sorted(set(exclude_guide_ids)), dtype=np.int64)
    keep = (
        (placements.to_store != 0)
        & (placements.to_store == placements.from_store)
        & (placements.from_guide != 0)
        & ~np.isin(placements.from_guide, excluded)
    )
    placements.to_guide[:] = np.where(keep, placements.from_guide, 0)
    need = (placements.to_store != 0) & ~keep
    if not need.any():
        return
    store_ids = np.unique(placements.to_store[need])
    if connection.in_atomic_block and len(store_ids) <= LARGE_ID_SET:
        # Few stores (a handover, a closure): lock their guides so concurrent
        # single assignments take turns with this batch. Locking every guide
        # of a nationwide run would cost more than the skew it prevents.
        list(
            Guide.objects.filter(store_id__in=store_ids.tolist(), is_active=True)
            .select_for_update()
            .values_list("pk")
        )
    guide_rows = active_guides_of_stores(store_ids.tolist())  # ordered by store, employee no.
    g_id = np.fromiter((r[0] for r in guide_rows), np.int64, len(guide_rows))
    g_store = np.fromiter((r[1] for r in guide_rows), np.int64, len(guide_rows))
    available = ~np.isin(g_id, excluded)
    g_id, g_store = g_id[available], g_store[available]
    g_rank = np.arange(len(g_id))  # employee-no. order within each store
    for brand_id in np.unique(placements.brand_id[need]):
        members = np.nonzero(need & (placements.brand_id == brand_id))[0]
        loads = _guide_loads_array(g_id, int(brand_id))
        # Members leaving a guide of this brand no longer weigh on them.
        leaving = (placements.brand_id == brand_id) & (placements.from_guide != 0) & ~keep
        _subtract_leavers(loads, g_id, placements.from_guide[leaving])
        placements.to_guide[members] = _water_fill(
            placements.to_store[members], g_id, g_store, g_rank, loads
        )


def _guide_loads_array(g_id: np.ndarray, brand_id: int) -> np.ndarray:
    if len(g_id) > LARGE_ID_SET:
        counts = guide_loads_of_brand(brand_id=brand_id)
    else:
        counts = guide_loads(guide_ids=g_id.tolist(), brand_id=brand_id)
    loads = np.zeros(len(g_id), dtype=np.int64)
    if counts and len(g_id):
        held_by = np.fromiter(counts.keys(), np.int64, len(counts))
        held = np.fromiter(counts.values(), np.int64, len(counts))
        order = np.argsort(g_id)
        pos = np.searchsorted(g_id[order], held_by).clip(0, len(g_id) - 1)
        mine = g_id[order][pos] == held_by
        loads[order[pos[mine]]] = held[mine]
    return loads


def _subtract_leavers(loads: np.ndarray, g_id: np.ndarray, leaving_guides: np.ndarray) -> None:
    if not len(leaving_guides) or not len(g_id):
        return
    order = np.argsort(g_id)
    pos = np.searchsorted(g_id[order], leaving_guides)
    pos = pos.clip(0, len(g_id) - 1)
    found = g_id[order][pos] == leaving_guides
    np.subtract.at(loads, order[pos[found]], 1)


def _water_fill(member_store, g_id, g_store, g_rank, loads) -> np.ndarray:
    """Return a guide per member (0 where the store has none), least-loaded first."""
    result = np.zeros(len(member_store), dtype=np.int64)
    member_order = np.argsort(member_store, kind="stable")  # keeps joining order per store
    stores, n_per_store = np.unique(member_store[member_order], return_counts=True)
    lo = np.searchsorted(g_store, stores, side="left")
    hi = np.searchsorted(g_store, stores, side="right")
    staffed = hi > lo
    # Each guide of a staffed store offers as many slots as the store has new members.
    guide_slots = np.zeros(len(g_id), dtype=np.int64)
    for s in np.nonzero(staffed)[0]:
        guide_slots[lo[s] : hi[s]] = n_per_store[s]
    slot_guide = np.repeat(np.arange(len(g_id)), guide_slots)
    slot_starts = np.repeat(np.cumsum(guide_slots) - guide_slots, guide_slots)
    slot_level = loads[slot_guide] + (np.arange(len(slot_guide)) - slot_starts)
    order = np.lexsort((g_rank[slot_guide], slot_level, g_store[slot_guide]))
    slot_guide, slot_store = slot_guide[order], g_store[slot_guide[order]]
    # Keep the first n slots of each store.
    slot_store_pos = np.searchsorted(stores, slot_store)
    slot_first = np.searchsorted(slot_store, slot_store, side="left")
    taken = (np.arange(len(slot_guide)) - slot_first) < n_per_store[slot_store_pos]
    chosen = g_id[slot_guide[taken]]
    staffed_members = member_order[np.repeat(staffed, n_per_store)]
    result[staffed_members] = chosen
    return result


def placements_write(placements: Placements, *, reason: str, actor_id: int | None = None) -> int:
    """Write the memberships that move, with one event each; return how many changed.

    A membership whose status, store or guide changed since it was read is
    left alone: another path got there first.
    """
    located = placements.to_store != 0
    new_status = np.where(located, Status.ASSIGNED.value, Status.UNASSIGNED.value).astype(object)
    new_reason = np.where(
        located,
        np.where(placements.to_guide != 0, "", Reason.NO_GUIDE_AVAILABLE.value),
        placements.unassigned_reason,
    ).astype(object)
    changed = (
        (placements.to_store != placements.from_store)
        | (placements.to_guide != placements.from_guide)
        | (new_status != placements.status)
    )
    rows = np.nonzero(changed)[0]
    if not len(rows):
        return 0
    columns = _write_columns(placements, rows, new_status, new_reason)
    return _write(columns, reason=reason, actor_id=actor_id, now=timezone.now())


def _write_and_announce(columns: dict[str, list], *, reason: str, actor_id: int | None, now) -> int:
    """Write one batch, then its member events and its ``membership_bound`` signal.

    In the transaction of the batch's own writes: an event and a queued
    re-attribution exist exactly when the move they report committed, and
    each costs a fixed number of statements and messages per batch.
    """
    if connection.vendor == "postgresql":
        written = _write_postgres(columns, reason=reason, actor_id=actor_id, now=now)
    else:
        written = _write_portable(columns, reason=reason, actor_id=actor_id, now=now)
    member_events_record(membership_ids=columns["membership_id"], since=now)
    leaving_pending = [
        membership_id
        for membership_id, status in zip(
            columns["membership_id"], columns["expect_status"], strict=True
        )
        if status == Status.PENDING
    ]
    if leaving_pending:
        membership_bound.send(sender=Membership, membership_ids=leaving_pending)
    return written


def _write(columns: dict[str, list], *, reason: str, actor_id: int | None, now) -> int:
    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block
        or len(columns["membership_id"]) < PARALLEL_WRITE_MIN_ROWS
    ):
        with transaction.atomic():
            return _write_and_announce(columns, reason=reason, actor_id=actor_id, now=now)
    batches = [
        {name: values[i : i + BULK_WRITE_BATCH] for name, values in columns.items()}
        for i in range(0, len(columns["membership_id"]), BULK_WRITE_BATCH)
    ]

    # Index upkeep and foreign-key checks are most of a bulk move's cost and
    # run on one core per connection. Each batch commits on its own: the
    # expected-state guard makes a failed or repeated batch harmless, and
    # members it left pending are picked up by the next run.
    # The batch's commit queues its messages from the writer's thread: through
    # the same Celery app as this thread (Celery's current app is per thread).
    app = current_app._get_current_object()

    def write(batch):
        app.set_current()
        try:
            with transaction.atomic():
                return _write_and_announce(batch, reason=reason, actor_id=actor_id, now=now)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WRITE_CONNECTIONS) as pool:
        return sum(pool.map(write, batches))


def _write_columns(placements, rows, new_status, new_reason) -> dict[str, list]:
    def ids(values):
        return [v or None for v in values[rows].tolist()]

    distance = placements.distance_km[rows]
    distance = np.where(placements.to_store[rows] != 0, distance, np.nan)
    return {
        "membership_id": placements.membership_id[rows].tolist(),
        "expect_status": placements.status[rows].tolist(),
        "from_store_id": ids(placements.from_store),
        "from_guide_id": ids(placements.from_guide),
        "to_store_id": ids(placements.to_store),
        "to_guide_id": ids(placements.to_guide),
        "status": new_status[rows].tolist(),
        "reason": new_reason[rows].tolist(),
        "distance_km": [None if d != d else d for d in distance.tolist()],
    }


def _array_literal(values: list) -> str:
    """Render a list as a PostgreSQL array literal (numbers, NULLs, plain identifiers)."""
    return "{" + ",".join("NULL" if v is None else (str(v) or '""') for v in values) + "}"


_COLUMN_TYPES = {
    "membership_id": "bigint",
    "expect_status": "text",
    "from_store_id": "bigint",
    "from_guide_id": "bigint",
    "to_store_id": "bigint",
    "to_guide_id": "bigint",
    "status": "text",
    "reason": "text",
    "distance_km": "float8",
}


def _write_postgres(columns, *, reason, actor_id, now) -> int:
    # Each column travels as one array parameter: far cheaper to render than
    # rows, and the statement stays a single set-based UPDATE.
    params = {f"col_{name}": _array_literal(values) for name, values in columns.items()}
    params.update(now=now, reason=str(reason), actor_id=actor_id)
    with connection.cursor() as cursor:
        cursor.execute(_write_postgres_sql(), params)
        return cursor.fetchone()[0]


@cache
def _write_postgres_sql() -> str:
    unnest = sql_join(
        ", ",
        (
            SQL("%({})s::{}[]").format(SQL(f"col_{name}"), SQL(kind))
            for name, kind in _COLUMN_TYPES.items()
        ),
    )
    return render(
        SQL("""
            WITH t AS (
                SELECT * FROM unnest({unnest}) AS t({names})
            ), moved AS (
                UPDATE {membership} AS m
                SET store_id = t.to_store_id,
                    guide_id = t.to_guide_id,
                    assignment_status = t.status,
                    unassigned_reason = t.reason,
                    distance_km = t.distance_km,
                    bound_at = CASE
                        WHEN t.to_store_id IS NULL THEN NULL
                        WHEN t.to_guide_id IS NOT DISTINCT FROM m.guide_id
                             AND t.to_store_id IS NOT DISTINCT FROM m.store_id THEN m.bound_at
                        WHEN m.assignment_status = {pending} THEN m.joined_at
                        ELSE %(now)s END,
                    updated_at = %(now)s
                FROM t
                WHERE m.id = t.membership_id
                  AND m.assignment_status = t.expect_status
                  AND m.store_id IS NOT DISTINCT FROM t.from_store_id
                  AND m.guide_id IS NOT DISTINCT FROM t.from_guide_id
                RETURNING m.id, t.from_store_id, t.from_guide_id, t.to_store_id, t.to_guide_id
            ), logged AS (
                INSERT INTO {event}
                    (membership_id, from_store_id, from_guide_id, to_store_id, to_guide_id,
                     reason, actor_id, created_at)
                SELECT id, from_store_id, from_guide_id, to_store_id, to_guide_id,
                       %(reason)s, %(actor_id)s, %(now)s
                FROM moved
                WHERE to_store_id IS NOT NULL OR from_store_id IS NOT NULL
                RETURNING 1
            )
            SELECT count(*) FROM moved
        """).format(
            unnest=unnest,
            names=sql_join(", ", (Identifier(name) for name in _COLUMN_TYPES)),
            membership=table(Membership),
            event=table(AssignmentEvent),
            pending=Literal(Status.PENDING.value),
        )
    )


def _write_portable(columns, *, reason, actor_id, now) -> int:
    events, changed = [], 0
    for row in zip(*columns.values(), strict=True):
        r = dict(zip(columns, row, strict=True))
        same_binding = (r["to_store_id"], r["to_guide_id"]) == (
            r["from_store_id"],
            r["from_guide_id"],
        )
        updates = {
            "store_id": r["to_store_id"],
            "guide_id": r["to_guide_id"],
            "assignment_status": r["status"],
            "unassigned_reason": r["reason"],
            "distance_km": r["distance_km"],
            "updated_at": now,
        }
        if not same_binding:
            updates["bound_at"] = (
                None
                if r["to_store_id"] is None
                else F("joined_at")
                if r["expect_status"] == Status.PENDING
                else now
            )
        updated = Membership.objects.filter(
            pk=r["membership_id"],
            assignment_status=r["expect_status"],
            store_id=r["from_store_id"],
            guide_id=r["from_guide_id"],
        ).update(**updates)
        if not updated:
            continue
        changed += 1
        if r["to_store_id"] is not None or r["from_store_id"] is not None:
            events.append(
                AssignmentEvent(
                    membership_id=r["membership_id"],
                    from_store_id=r["from_store_id"],
                    from_guide_id=r["from_guide_id"],
                    to_store_id=r["to_store_id"],
                    to_guide_id=r["to_guide_id"],
                    reason=reason,
                    actor_id=actor_id,
                )
            )
    AssignmentEvent.objects.bulk_create(events, batch_size=1000)
    return changed

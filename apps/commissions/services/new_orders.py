"""What a worker does for orders just received: write their entries and settle what is T+0.

In a sale's rush one set-based run costs about what one order's does, so a
worker takes the orders still without entries along in batches: either the
later orders after the one its message names (``order_entries_write``), or
every order committed before a coalesced run started
(``orders_waiting_write``).
"""

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef

from apps.commissions import task_names
from apps.commissions.models import CommissionEntry, Order, Refund, SettlementMode
from apps.commissions.services.attribution import orders_attribution_refresh_due
from apps.commissions.services.entries import commission_entries_write
from apps.commissions.services.settlements import (
    settlement_settle_t0,
    settlement_settle_t0_orders,
)
from apps.core.tasking import task_enqueue

logger = logging.getLogger(__name__)

# A worker writing a new order's entries takes along up to this many orders
# received after it that have none yet. It looks this many order ids ahead,
# which bounds the scan.
ENTRY_BACKLOG_BATCH = 100
ENTRY_BACKLOG_ID_WINDOW = 2_000
# A coalesced run takes this many orders a transaction: a batch endpoint's
# orders arrive by the hundred, and each transaction's statements cost about
# the same for a hundred orders as for one.
ENTRY_WAITING_BATCH = 500
# Orders looked at by id at a time for ones without entries.
ENTRY_SCAN_ORDERS = 2_000
# A coalesced run (settings.TASK_COALESCING) starts this many ids before the
# order that queued it: an order given a lower id may commit after that one,
# find the run queued and count on it. It writes at most this many batches,
# then queues its successor rather than hold a worker.
ENTRY_WAITING_LOOKBEHIND_IDS = 1_000
ENTRY_WAITING_MAX_BATCHES = 20
# The order id through which the last finished run left no order waiting; kept
# a day (the settlement run's catch-up covers anything older).
ENTRY_WAITING_DONE_KEY = "commissions:entries-waiting-done-through"
ENTRY_WAITING_DONE_SECONDS = 24 * 3600


def _order_work_outstanding(order_id: int) -> tuple[bool, bool]:
    """Return (whether the order has entries, whether anything of it is left to write or settle)."""
    entries = CommissionEntry.objects.filter(order_id=order_id)
    has_entries = entries.filter(refund__isnull=True).exists()
    if not has_entries:
        return False, True
    refund_missing = (
        Refund.objects.filter(order_id=order_id)
        .exclude(pk__in=entries.filter(refund__isnull=False).values("refund_id"))
        .exists()
    )
    t0_unsettled = entries.filter(mode=SettlementMode.T0, settlement__isnull=True).exists()
    return True, refund_missing or t0_unsettled


def _orders_without_entries(
    *, after_id: int, limit: int, up_to_id: int | None = None
) -> list[tuple[int, str]]:
    """Lock up to ``limit`` orders with ids above ``after_id`` that have no entry, by id.

    Locked with SKIP LOCKED, so that workers take disjoint batches. Returns
    (id, attribution reason) pairs. The orders are looked at
    ``ENTRY_SCAN_ORDERS`` ids at a time: bounded by ids, the anti-join probes
    the once-per-order index (partial on ``refund IS NULL``) for those orders
    rather than hashing the whole ledger, which a planner with stale
    statistics for a sale day's new orders would otherwise do for every batch.
    """
    orders = Order.objects.all()
    if up_to_id is not None:
        orders = orders.filter(pk__lte=up_to_id)
    shares = CommissionEntry.objects.filter(order_id=OuterRef("pk"), refund__isnull=True)
    while True:
        window = list(
            orders.filter(pk__gt=after_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:ENTRY_SCAN_ORDERS]
        )
        if not window:
            return []
        found = list(
            orders.filter(pk__gt=after_id, pk__lte=window[-1])
            .exclude(Exists(shares))
            .order_by("pk")
            .select_for_update(no_key=True, skip_locked=True)
            .values_list("pk", "attribution_reason")[:limit]
        )
        if found or len(window) < ENTRY_SCAN_ORDERS:
            return found
        after_id = window[-1]


def _new_orders_write_and_settle(orders: list[tuple[int, str]]) -> int:
    """Write the entries of orders that have none and settle the T+0 ones; return rows written.

    ``orders`` are (id, attribution reason) pairs, locked by the caller. An
    order whose member's binding landed since it arrived is attributed again
    first, so its guide's shares are written with the store's.
    """
    orders_attribution_refresh_due(orders)
    order_ids = [pk for pk, _reason in orders]
    written = commission_entries_write(order_ids=order_ids)
    refunded = set(
        Refund.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True).distinct()
    )
    settlement_settle_t0_orders(order_ids=[pk for pk in order_ids if pk not in refunded])
    for refunded_order_id in sorted(refunded):
        settlement_settle_t0(order_id=refunded_order_id)
    return written


@transaction.atomic
def order_entries_write(*, order_id: int) -> int:
    """Write an order's missing entries and settle its T+0 ones, with a batch of later orders.

    An order whose entries exist (a refund came, or an earlier batch took it)
    goes the single way: ``commission_entries_write`` then
    ``settlement_settle_t0``. A new one takes along the later orders (within
    ``ENTRY_BACKLOG_ID_WINDOW`` ids) that have no entries yet, locked with
    SKIP LOCKED so that workers take disjoint batches. Idempotent: once an
    order's work is done, its message only checks. Returns rows written.
    """
    locked = (
        Order.objects.select_for_update(no_key=True)
        .filter(pk=order_id)
        .values_list("pk", "attribution_reason")
        .first()
    )
    if locked is None:
        logger.error("commission entries: dropping unknown order id %s", order_id)
        return 0
    has_entries, outstanding = _order_work_outstanding(order_id)
    if not outstanding:
        return 0
    if has_entries:
        orders_attribution_refresh_due([locked])
        written = commission_entries_write(order_id=order_id)
        settlement_settle_t0(order_id=order_id)
        return written
    later = _orders_without_entries(
        after_id=order_id, up_to_id=order_id + ENTRY_BACKLOG_ID_WINDOW,
        limit=ENTRY_BACKLOG_BATCH - 1,
    )  # fmt: skip
    return _new_orders_write_and_settle([locked, *later])


def orders_entries_write(*, order_ids: list[int]) -> int:
    """Write and settle the missing entries of each of ``order_ids`` (``order_entries_write``).

    Each order is its own transaction, as with a message per order; an
    order whose work is done only checks. Returns rows written.
    """
    return sum(order_entries_write(order_id=order_id) for order_id in sorted(set(order_ids)))


def orders_waiting_write(*, from_order_id: int) -> int:
    """Write and settle the entries of the orders from about ``from_order_id`` on that have none.

    The entry point of a coalesced run: one run serves all the orders
    committed before it started, in batches that commit on their own.
    Returns rows written.
    """
    # Start where the last finished run left off, if that is further back: the
    # orders of a run whose message was lost are then made up for by the next.
    done_through = cache.get(ENTRY_WAITING_DONE_KEY)
    if done_through is not None:
        from_order_id = min(from_order_id, done_through + 1)
    after_id = from_order_id - ENTRY_WAITING_LOOKBEHIND_IDS - 1
    written = 0
    for _batch in range(ENTRY_WAITING_MAX_BATCHES):
        with transaction.atomic():
            batch = _orders_without_entries(after_id=after_id, limit=ENTRY_WAITING_BATCH)
            if not batch:
                cache.set(ENTRY_WAITING_DONE_KEY, after_id, timeout=ENTRY_WAITING_DONE_SECONDS)
                return written
            written += _new_orders_write_and_settle(batch)
        after_id = batch[-1][0]
    task_enqueue(task_names.ORDERS_WAITING_WRITE, after_id + ENTRY_WAITING_LOOKBEHIND_IDS + 1)
    return written

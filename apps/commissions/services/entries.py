"""Writes of ledger entries: the shares of orders and refunds, each in the settlement due."""

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone

from apps.commissions.models import Order, SettlementCutoff, SettlementMode
from apps.commissions.sql import entries as entry_sql
from apps.commissions.sql.dialect import T
from apps.core.sql import SQL, Literal, list_param, render
from apps.stores.models import Brand

logger = logging.getLogger(__name__)

# Memory for the sorts and hashes of one bulk statement (PostgreSQL), so that a
# sale day's entries are grouped in memory rather than spilled to disk.
BULK_WORK_MEM = "256MB"
SCHEDULED_MODES = (SettlementMode.T1, SettlementMode.TN, SettlementMode.MONTHLY)

# A settlement run first writes the entries whose task never ran (its message
# was lost with a broker, or its worker died past its retries) for orders and
# refunds of this many days back: enough for the previous month of a monthly
# run. An order of a brand with a valid plan that still earns nothing (its
# categories have no plan) is looked at again by each run.
ENTRY_CATCH_UP_DAYS = 35
ENTRY_CATCH_UP_BATCH = 5_000


def bulk_statement_settings(cursor) -> None:
    """Give a bulk transaction (PostgreSQL) the memory to group a sale day in."""
    cursor.execute(render(SQL("SET LOCAL work_mem = {}").format(Literal(BULK_WORK_MEM))))


def cutoffs_lock(cursor, *, brand_ids: list[int], for_update: bool) -> None:
    """Make sure the brands' cutoff rows exist and lock them, in id order.

    Entry writers take a share lock for their whole transaction and the run
    an exclusive one, so a run's cutoff never moves under a writer that has
    read it: the writer's entries are in before the close, or after it in a
    later period.
    """
    if not brand_ids:
        return
    existing = set(
        SettlementCutoff.objects.filter(brand_id__in=brand_ids).values_list("brand_id", "mode")
    )
    missing = [
        SettlementCutoff(brand_id=brand_id, mode=mode)
        for brand_id in brand_ids
        for mode in SCHEDULED_MODES
        if (brand_id, mode) not in existing
    ]
    if missing:
        SettlementCutoff.objects.bulk_create(missing, ignore_conflicts=True)
    if connection.vendor != "postgresql":
        return  # SQLite serialises writing transactions.
    statement = SQL("SELECT id FROM {cutoff} WHERE brand_id = ANY(%s) ORDER BY id FOR {strength}")
    strength = SQL("UPDATE" if for_update else "SHARE")
    cursor.execute(render(statement.format(cutoff=T["cutoff"], strength=strength)), [brand_ids])


def commission_entries_write(
    *,
    order_id: int | None = None,
    business_date: dt.date | None = None,
    order_ids: list[int] | None = None,
) -> int:
    """Write every missing entry of one order, of a list of orders or of a business date.

    One set-based definition serves all: entries of the orders, then the
    clawback entries of their refunds, each written straight into the open
    settlement of the period it is due in (opened here if needed). Entries
    already written are skipped by the unique keys, so running it again
    writes nothing. Returns rows written.
    """
    if sum(arg is not None for arg in (order_id, business_date, order_ids)) != 1:
        raise ValueError("Give exactly one of order_id, order_ids and business_date.")
    vendor = connection.vendor
    if order_id is not None:
        by, params = entry_sql.BY_ORDER, {"order_id": order_id}
        brand_ids = list(Order.objects.filter(pk=order_id).values_list("brand_id", flat=True))
    elif order_ids is not None:
        if not order_ids:
            return 0
        by, params = entry_sql.BY_ORDERS, {"order_ids": list_param(order_ids, vendor)}
        brand_ids = list(
            Order.objects.filter(pk__in=order_ids).values_list("brand_id", flat=True).distinct()
        )
    else:
        by, params = entry_sql.BY_DATE, {"business_date": business_date}
        brand_ids = list(Brand.objects.values_list("pk", flat=True))
    params["now"] = timezone.now()
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cutoffs_lock(cursor, brand_ids=brand_ids, for_update=False)
        sale_day = vendor == "postgresql" and business_date is not None
        if sale_day:
            # A sale day's statements join a million rows. The planner cannot
            # estimate the rows of their CTEs (it guesses dozens) and would
            # probe an index per row in nested loops or sort by store for a
            # merge join; hash joins read each table once and keep the
            # orders' scan order, so the ledger's indexes take the new
            # entries in key order. JIT compiling only adds seconds here.
            bulk_statement_settings(cursor)
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL jit = off")
        for open_settlements, insert_entries in (
            (entry_sql.open_settlements_for_orders, entry_sql.insert_order_entries),
            (entry_sql.open_settlements_for_refunds, entry_sql.insert_refund_entries),
        ):
            cursor.execute(open_settlements(vendor, by), params)
            if sale_day:
                # Thousands of settlements were just opened: without fresh
                # statistics the entries' join to them becomes a nested loop.
                cursor.execute(render(SQL("ANALYZE {}").format(T["settlement"])))
            cursor.execute(insert_entries(vendor, by), params)
            written += max(cursor.rowcount, 0)
    return written


def commission_entries_write_late_guide(*, order_id: int) -> int:
    """Add the attributed guide's shares to an order whose store shares were written before.

    For an order re-attributed once its member's binding landed
    (``order_attribution_refresh``): entries of kind ``bound_guide_late``,
    each in the guide's first period still open. Runs in the caller's
    transaction, which holds the order. Returns rows written.
    """
    params = {"order_id": order_id, "now": timezone.now()}
    vendor = connection.vendor
    brand_ids = list(Order.objects.filter(pk=order_id).values_list("brand_id", flat=True))
    with connection.cursor() as cursor:
        cutoffs_lock(cursor, brand_ids=brand_ids, for_update=False)
        cursor.execute(entry_sql.open_settlements_for_late_guide_entries(vendor), params)
        cursor.execute(entry_sql.insert_late_guide_entries(vendor), params)
        return max(cursor.rowcount, 0)


def commission_entries_catch_up(
    *, since: dt.date, until: dt.date, brand: Brand | None = None
) -> int:
    """Write the missing entries of orders and refunds dated ``since``–``until``; return rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            entry_sql.orders_missing_entries(connection.vendor, by_brand=brand is not None),
            {"since": since, "until": until, "brand_id": brand.pk if brand else None},
        )
        order_ids = sorted(row[0] for row in cursor.fetchall())
    written = 0
    for start in range(0, len(order_ids), ENTRY_CATCH_UP_BATCH):
        written += commission_entries_write(
            order_ids=order_ids[start : start + ENTRY_CATCH_UP_BATCH]
        )
    if written:
        logger.warning(
            "settlement run: wrote %s missing entries of %s orders (their tasks were lost)",
            written,
            len(order_ids),
        )
    return written

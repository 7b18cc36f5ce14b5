"""Settling entries: opening, claiming, closing and totalling settlements.

A T+1, T+N or monthly entry is written into its open settlement; the run
closes the open settlements that are due. T+0 entries are claimed by a
settlement of their own order (or refund) written closed. Every path ends the
same way: carried balances are linked, then ``update_totals`` sums the
entries of the run's settlements — the one place a settlement's total is
computed.
"""

from functools import cache

from apps.commissions.sql.dialect import (
    OPEN,
    SETTLED,
    SETTLEMENT_COLUMNS,
    T0,
    Side,
    T,
    insert_open_settlements,
    open_settlement_joins,
    period_columns,
)
from apps.core.sql import SQL, Composable, in_list, render

# Which unsettled entries a settlement step works on (alias ``e``).
T0_DUE = "t0_due"  # T+0 entries dated up to %(run_date)s (a lost task's leftovers)
T0_OF_ORDER = "t0_of_order"  # T+0 entries of %(order_id)s, not of a refund
T0_OF_REFUND = "t0_of_refund"  # T+0 entries of %(order_id)s's refund %(refund_id)s
T0_OF_ORDERS = "t0_of_orders"  # T+0 entries of the %(order_ids)s list, each order on its own
SCHEDULED_DUE = "scheduled_due"  # entries of the %(modes)s list (T+1, T+N, monthly)
ADJUSTMENT = "adjustment"  # the entry of adjustment %(adjustment_id)s
ADJUSTMENT_T0 = "adjustment_t0"  # the same, if it is T+0
BONUS = "bonus"  # the unsettled bonus entries of %(brand_id)s
BONUS_T0 = "bonus_t0"  # the same, if they are T+0


def entry_filter(vendor: str, which: str, *, by_brand: bool) -> Composable:
    """The condition on entries (alias ``e``) that ``which`` names, optionally of %(brand_id)s."""
    of_order = "e.order_id = %(order_id)s AND e.mode = {t0} AND "
    conditions = {
        T0_DUE: "e.mode = {t0} AND e.business_date <= %(run_date)s",
        T0_OF_ORDER: of_order + "e.refund_id IS NULL",
        T0_OF_REFUND: of_order + "e.refund_id = %(refund_id)s",
        ADJUSTMENT: "e.adjustment_id = %(adjustment_id)s",
        ADJUSTMENT_T0: "e.adjustment_id = %(adjustment_id)s AND e.mode = {t0}",
        BONUS: "e.kind = 'bonus' AND e.brand_id = %(brand_id)s",
        BONUS_T0: "e.kind = 'bonus' AND e.brand_id = %(brand_id)s AND e.mode = {t0}",
    }
    if which == SCHEDULED_DUE:
        condition = in_list(vendor, "e.mode", "modes")
    elif which == T0_OF_ORDERS:
        condition = SQL("e.refund_id IS NULL AND e.mode = {} AND {}").format(
            T0, in_list(vendor, "e.order_id", "order_ids")
        )
    else:
        condition = SQL(conditions[which]).format(t0=T0)
    if by_brand:
        condition = SQL("{} AND e.brand_id = %(brand_id)s").format(condition)
    return condition


# --- Scheduled runs: late entries into their open settlements, then the close -------------


@cache
def open_settlements_for_unsettled(
    vendor: str, *, by_brand: bool, which: str = SCHEDULED_DUE
) -> str:
    """Open settlements for the due entries written without one (``which``: an adjustment's).

    Such entries are rare: a T+1 entry whose open settlement a concurrent
    writer had not yet committed, entries from before open settlements, or
    an adjustment, which is written alone and then put in its settlement.
    """
    periods = period_columns(vendor, "e.business_date", "e.mode", "e.hold_days")
    keys = SQL("""
    SELECT e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, {periods}
    FROM {entry} e
    LEFT JOIN {cutoff} c ON c.brand_id = e.brand_id AND c.mode = e.mode
    WHERE e.settlement_id IS NULL AND e.mode <> {t0} AND ({entry_filter})
    """).format(
        periods=periods,
        t0=T0,
        entry_filter=entry_filter(vendor, which, by_brand=by_brand),
        **T,
    )
    return render(insert_open_settlements(keys))


@cache
def claim_unsettled_into_open(vendor: str, *, by_brand: bool, which: str = SCHEDULED_DUE) -> str:
    """Move the due entries written without a settlement (``which``) into their open one."""
    periods = period_columns(vendor, "e.business_date", "e.mode", "e.hold_days")
    return render(
        SQL("""
UPDATE {entry} AS u SET settlement_id = m.settlement_id
FROM (
    SELECT x.id, COALESCE(sg.id, ss.id) AS settlement_id
    FROM (
        SELECT e.id, e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, {periods}
        FROM {entry} e
        LEFT JOIN {cutoff} c ON c.brand_id = e.brand_id AND c.mode = e.mode
        WHERE e.settlement_id IS NULL AND e.mode <> {t0} AND ({entry_filter})
    ) x
    {open_settlements}
) m
WHERE u.id = m.id AND u.settlement_id IS NULL AND m.settlement_id IS NOT NULL
""").format(
            periods=periods,
            t0=T0,
            entry_filter=entry_filter(vendor, which, by_brand=by_brand),
            open_settlements=open_settlement_joins("x"),
            **T,
        )
    )


def _due_settlements(vendor: str, *, by_brand: bool) -> Composable:
    """The open settlements (alias ``s``) of the %(modes)s due by %(through)s."""
    condition = SQL("{} AND s.period_end <= %(through)s").format(in_list(vendor, "s.mode", "modes"))
    if by_brand:
        condition = SQL("{} AND s.brand_id = %(brand_id)s").format(condition)
    return condition


@cache
def delete_empty_due_settlements(vendor: str, *, by_brand: bool) -> str:
    """Drop the due open settlements that no entry went in."""
    return render(
        SQL("""
DELETE FROM {settlement}
WHERE id IN (
    SELECT s.id FROM {settlement} s
    WHERE s.status = {open} AND ({due})
      AND NOT EXISTS (SELECT 1 FROM {entry} e WHERE e.settlement_id = s.id)
)
""").format(open=OPEN, due=_due_settlements(vendor, by_brand=by_brand), **T)
    )


@cache
def close_due_settlements(vendor: str, *, by_brand: bool) -> str:
    """Close the due open settlements: settled, stamped with the run (totals come after)."""
    return render(
        SQL("""
UPDATE {settlement} AS s
SET status = {settled}, run_token = %(run_token)s, created_at = %(now)s
WHERE s.status = {open} AND ({due})
""").format(settled=SETTLED, open=OPEN, due=_due_settlements(vendor, by_brand=by_brand), **T)
    )


# --- T+0: a settlement per order (or refund) and beneficiary, written closed -------------
# T0_OF_ORDERS settles many orders in one run as the single path settles one:
# a settlement per order and beneficiary, dated the order's business date and
# referenced ``order:<order_no>``.


def _per_order(which: str) -> bool:
    return which == T0_OF_ORDERS


@cache
def insert_settlements(vendor: str, side: Side, which: str, *, by_brand: bool = False) -> str:
    """Write one settlement of this run per beneficiary among the unsettled entries ``which``.

    Dated %(period_start)s–%(period_end)s with source %(source_ref)s (per order
    for ``T0_OF_ORDERS``). A settlement that already exists for the period is
    left alone (its entries stay for the next run), which is what makes
    running again write nothing.
    """
    per_order = _per_order(which)
    return render(
        SQL("""
INSERT INTO {settlement} ({columns})
SELECT {beneficiary}, {guide_id}, {store_id}, e.brand_id, e.mode, {period_and_source},
       0, 0, 0, {settled}, '', %(run_token)s, %(now)s
FROM {entry} e {guide_join} {order_join}
WHERE e.settlement_id IS NULL AND e.beneficiary = {beneficiary} AND ({entry_filter})
GROUP BY {order_group}{group}, e.brand_id, e.mode
ON CONFLICT DO NOTHING
""").format(
            columns=SETTLEMENT_COLUMNS,
            beneficiary=side.literal,
            guide_id=side.guide_id("e"),
            store_id=side.store_id("e"),
            period_and_source=SQL(
                "o.business_date, o.business_date, 'order:' || o.order_no"
                if per_order
                else "%(period_start)s, %(period_end)s, %(source_ref)s"
            ),
            settled=SETTLED,
            guide_join=side.guide_join("e"),
            order_join=SQL("JOIN {} o ON o.id = e.order_id").format(T["order"])
            if per_order
            else SQL(""),
            entry_filter=entry_filter(vendor, which, by_brand=by_brand),
            order_group=SQL("o.id, o.order_no, o.business_date, " if per_order else ""),
            group=side.group("e"),
            **T,
        )
    )


@cache
def claim_entries(vendor: str, side: Side, which: str, *, by_brand: bool = False) -> str:
    """Claim the unsettled entries ``which`` for this run's settlements.

    ``settlement_id IS NULL`` makes the claim atomic: a concurrent claimer's
    row lock makes this statement re-check the condition and skip what the
    other took. For ``T0_OF_ORDERS`` each entry goes in its own order's
    settlement.
    """
    per_order = _per_order(which)
    # The run's settlements are read first, by their run token: written a
    # moment ago, they are missing from the planner's statistics, and it
    # would otherwise probe a settlement index per entry (a scan of every
    # T+0 settlement of that beneficiary's key, growing with the ledger).
    return render(
        SQL("""
WITH s AS MATERIALIZED (
    SELECT id, {key}, brand_id, mode, source_ref FROM {settlement}
    WHERE run_token = %(run_token)s AND beneficiary = {beneficiary}
)
UPDATE {entry} AS e SET settlement_id = s.id
FROM s {orders}
WHERE e.settlement_id IS NULL AND e.beneficiary = {beneficiary}
  AND e.{key} = s.{key} AND e.brand_id = s.brand_id AND e.mode = s.mode
  AND ({entry_filter}) {own_order}
""").format(
            orders=SQL(", {} o").format(T["order"]) if per_order else SQL(""),
            beneficiary=side.literal,
            key=SQL(side.key),
            entry_filter=entry_filter(vendor, which, by_brand=by_brand),
            own_order=SQL(
                "AND o.id = e.order_id AND s.source_ref = 'order:' || o.order_no AND {}"
            ).format(in_list(vendor, "o.id", "order_ids"))
            if per_order
            else SQL(""),
            **T,
        )
    )


# --- Every path ends here ----------------------------------------------------------------

DELETE_EMPTY_RUN_SETTLEMENTS = render(
    SQL("""
DELETE FROM {settlement}
WHERE run_token = %(run_token)s
  AND NOT EXISTS (SELECT 1 FROM {entry} e WHERE e.settlement_id = {settlement}.id)
""").format(**T)
)

# Totals (and the entry count) are sums of entries, plus the balance carried from the settlement
# named in carried_from (linked before this runs).
UPDATE_TOTALS = render(
    SQL("""
UPDATE {settlement} AS s
SET entries_total = sums.total,
    entry_count = sums.n,
    carried_forward = COALESCE((SELECT p.total FROM {settlement} p
                                WHERE p.id = s.carried_from_id), 0),
    total = sums.total + COALESCE((SELECT p.total FROM {settlement} p
                                   WHERE p.id = s.carried_from_id), 0)
FROM (
    SELECT e.settlement_id, SUM(e.amount) AS total, COUNT(*) AS n
    FROM {entry} e
    WHERE e.settlement_id IN (SELECT id FROM {settlement} WHERE run_token = %(run_token)s)
    GROUP BY e.settlement_id
) sums
WHERE s.id = sums.settlement_id
""").format(**T)
)

"""Writing ledger entries: orders' entries, refunds' clawbacks, and the settlements they go in.

Each builder takes the database vendor and which orders to work on (``by``):
one order (``%(order_id)s``), a list (``%(order_ids)s``, see
``apps.core.sql.list_param``) or a business date (``%(business_date)s``).
"""

from functools import cache

from apps.commissions.sql.dialect import (
    ENTRY_COLUMNS,
    GUIDE,
    KIND_ADJUSTMENT,
    KIND_LATE,
    KIND_ORDER,
    KIND_REFUND,
    STORE,
    T0,
    TERMS_HOLD,
    TERMS_JOIN,
    TERMS_MODE,
    T,
    clawback_cents,
    commission_yuan,
    insert_open_settlements,
    open_settlement_join,
    open_settlement_joins,
    period_columns,
)
from apps.core.sql import SQL, Composable, cents, in_list, render

BY_ORDER, BY_ORDERS, BY_DATE = "order", "orders", "date"


def order_filter(vendor: str, by: str) -> Composable:
    """The condition on orders (alias ``o``) that ``by`` names."""
    if by == BY_ORDER:
        return SQL("o.id = %(order_id)s")
    if by == BY_ORDERS:
        return in_list(vendor, "o.id", "order_ids")
    if by == BY_DATE:
        return SQL("o.business_date = %(business_date)s")
    raise ValueError(f"unknown order selection {by!r}")


@cache
def open_settlements_for_orders(vendor: str, by: str) -> str:
    """Open the settlements that the entries of the orders will go in."""
    periods = period_columns(vendor, "k.business_date", TERMS_MODE, TERMS_HOLD)
    keys = SQL("""
    SELECT b.beneficiary, k.guide_id, k.store_id, k.brand_id, {mode} AS mode, {periods}
    FROM (
        SELECT DISTINCT o.brand_id, o.store_id, o.attributed_guide_id AS guide_id,
               o.business_date
        FROM {order} o
        WHERE ({order_filter})
          AND NOT EXISTS (SELECT 1 FROM {entry} x
                          WHERE x.order_id = o.id AND x.refund_id IS NULL)
    ) k
    {terms_join}
    LEFT JOIN {cutoff} c ON c.brand_id = k.brand_id AND c.mode = {mode}
    CROSS JOIN (SELECT {guide_side} AS beneficiary UNION ALL SELECT {store_side}) b
    WHERE {mode} <> {t0} AND (b.beneficiary = {store_side} OR k.guide_id IS NOT NULL)
    """).format(
        mode=TERMS_MODE, periods=periods, order_filter=order_filter(vendor, by),
        terms_join=TERMS_JOIN, guide_side=GUIDE.literal, store_side=STORE.literal, t0=T0, **T,
    )  # fmt: skip
    return render(insert_open_settlements(keys))


@cache
def open_settlements_for_refunds(vendor: str, by: str) -> str:
    """Open the settlements that the clawbacks of the orders' refunds go in."""
    periods = period_columns(vendor, "k.business_date", "k.mode", "k.hold_days")
    keys = SQL("""
    SELECT k.beneficiary, k.guide_id, k.store_id, k.brand_id, k.mode, {periods}
    FROM (
        SELECT DISTINCT e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, e.hold_days,
               r.business_date
        FROM {refund} r
        JOIN {entry} e ON e.order_id = r.order_id AND e.refund_id IS NULL
        WHERE r.order_id IN (SELECT o.id FROM {order} o WHERE {order_filter})
          AND e.mode <> {t0}
          AND NOT EXISTS (SELECT 1 FROM {entry} x
                          WHERE x.refund_id = r.id AND x.beneficiary = e.beneficiary
                            AND x.category = e.category)
    ) k
    LEFT JOIN {cutoff} c ON c.brand_id = k.brand_id AND c.mode = k.mode
    """).format(periods=periods, order_filter=order_filter(vendor, by), t0=T0, **T)
    return render(insert_open_settlements(keys))


@cache
def insert_order_entries(vendor: str, by: str) -> str:
    """Write the orders' entries: one per (order, category base, beneficiary).

    The plan is resolved once per distinct (brand, store, category, business
    date), not per order: a big sale day has a million orders but only
    thousands of such keys. Each entry goes straight into its open
    settlement; a T+0 entry is written unsettled and claimed by the T+0
    settlement of its order.
    """
    periods = period_columns(vendor, "r.business_date", "r.mode", "r.hold_days")
    return render(
        SQL("""
INSERT INTO {entry} ({entry_columns})
WITH bases AS (
    SELECT o.id AS order_id, l.category AS category,
           CAST(SUM({line_cents}) AS BIGINT) AS base_cents,
           o.brand_id, o.store_id, o.business_date, o.attributed_guide_id
    FROM {order} o JOIN {line} l ON l.order_id = o.id
    WHERE o.has_lines AND ({order_filter})
    GROUP BY o.id, l.category, o.brand_id, o.store_id, o.business_date, o.attributed_guide_id
    UNION ALL
    SELECT o.id, '', {order_cents}, o.brand_id, o.store_id, o.business_date,
           o.attributed_guide_id
    FROM {order} o
    WHERE NOT o.has_lines AND ({order_filter})
),
keyed AS (
    SELECT b.order_id, b.category, b.base_cents, b.brand_id, b.store_id, s.kind AS store_kind,
           b.business_date, b.attributed_guide_id
    FROM bases b
    JOIN {store} s ON s.id = b.store_id
),
plan_keys AS (
    SELECT DISTINCT brand_id, store_id, store_kind, category, business_date FROM keyed
),
resolved AS MATERIALIZED (
    SELECT k.brand_id, k.store_id, k.category, k.business_date,
        ({plan_choice}) AS plan_id,
        {terms_mode} AS mode,
        {terms_hold} AS hold_days
    FROM plan_keys k
    {terms_join}
),
priced_keys AS MATERIALIZED (
    SELECT r.brand_id, r.store_id, r.category, r.business_date, r.plan_id, r.mode, r.hold_days,
           p.guide_rate, p.store_rate, {periods}
    FROM resolved r
    JOIN {plan} p ON p.id = r.plan_id
    LEFT JOIN {cutoff} c ON c.brand_id = r.brand_id AND c.mode = r.mode
),
priced AS (
    SELECT k.order_id, k.attributed_guide_id AS guide_id, k.store_id, k.brand_id, k.category,
           k.business_date, k.base_cents, r.guide_rate, r.store_rate, r.plan_id, r.mode,
           r.hold_days, r.period_start, ss.id AS store_settlement_id
    FROM keyed k
    JOIN priced_keys r ON r.brand_id = k.brand_id AND r.store_id = k.store_id
                      AND r.category = k.category AND r.business_date = k.business_date
    {store_settlement}
)
SELECT x.order_id, CAST(NULL AS BIGINT), {store_side}, CAST(NULL AS BIGINT), x.store_id,
       x.brand_id, x.category, x.business_date, x.base_cents / 100.0, x.store_rate, x.plan_id,
       {store_commission}, x.mode, x.hold_days, x.store_settlement_id, %(now)s, {kind},
       CAST(NULL AS BIGINT)
FROM priced x
UNION ALL
SELECT x.order_id, CAST(NULL AS BIGINT), {guide_side}, x.guide_id, x.store_id,
       x.brand_id, x.category, x.business_date, x.base_cents / 100.0, x.guide_rate, x.plan_id,
       {guide_commission}, x.mode, x.hold_days, sg.id, %(now)s, {kind}, CAST(NULL AS BIGINT)
FROM priced x
{guide_settlement}
WHERE x.guide_id IS NOT NULL
ON CONFLICT DO NOTHING
""").format(
            entry_columns=ENTRY_COLUMNS,
            line_cents=cents("l.amount"),
            order_cents=cents("o.amount"),
            order_filter=order_filter(vendor, by),
            plan_choice=plan_choice("k"),
            terms_mode=TERMS_MODE,
            terms_hold=TERMS_HOLD,
            terms_join=TERMS_JOIN,
            periods=periods,
            store_settlement=open_settlement_join(
                STORE, alias="ss", entry="r", condition=SQL("r.mode <> {}").format(T0)
            ),
            store_side=STORE.literal,
            guide_side=GUIDE.literal,
            store_commission=commission_yuan("x.base_cents", "x.store_rate"),
            guide_commission=commission_yuan("x.base_cents", "x.guide_rate"),
            guide_settlement=open_settlement_join(
                GUIDE, alias="sg", entry="x", condition=SQL("x.mode <> {}").format(T0)
            ),
            kind=KIND_ORDER,
            **T,
        )
    )


def plan_choice(keys: str) -> Composable:
    """Select the id of the plan in force for the keys of alias ``keys``.

    The keys are brand_id, store_id, store_kind, category and business_date;
    the most specific plan valid on the date wins, then the latest start
    (``calculations.plan_choose`` is the same rule over plain values).
    """
    return SQL("""
        SELECT p.id FROM {plan} p
        WHERE p.brand_id = {k}.brand_id
          AND (p.store_id IS NULL OR p.store_id = {k}.store_id)
          AND (p.store_kind = '' OR p.store_kind = {k}.store_kind)
          AND (p.category = '' OR p.category = {k}.category)
          AND p.valid_from <= {k}.business_date
          AND (p.valid_to IS NULL OR p.valid_to >= {k}.business_date)
        ORDER BY p.specificity DESC, p.valid_from DESC
        LIMIT 1
    """).format(plan=T["plan"], k=SQL(keys))


@cache
def insert_refund_entries(vendor: str, by: str) -> str:
    """Write the clawbacks of the orders' refunds: one per refund and order entry."""
    periods = period_columns(vendor, "r.business_date", "e.mode", "e.hold_days")
    return render(
        SQL("""
INSERT INTO {entry} ({entry_columns})
WITH refunds AS (
    SELECT r.id, r.order_id, r.business_date, {refund_cents} AS cents,
           CAST(SUM({refund_cents}) OVER (PARTITION BY r.order_id ORDER BY r.id)
                AS BIGINT) AS cum_after
    FROM {refund} r
    WHERE r.order_id IN (SELECT o.id FROM {order} o WHERE {order_filter})
),
x AS (
    SELECT e.order_id, r.id AS refund_id, e.beneficiary, e.guide_id, e.store_id, e.brand_id,
           e.category, r.business_date, e.rate, e.plan_id, e.mode, e.hold_days,
           {base_cents} AS base_cents, {amount_cents} AS amount_cents,
           r.cum_after, r.cum_after - r.cents AS cum_before, {order_cents} AS order_cents,
           {periods}
    FROM refunds r
    JOIN {entry} e ON e.order_id = r.order_id AND e.refund_id IS NULL
    JOIN {order} o ON o.id = r.order_id
    LEFT JOIN {cutoff} c ON c.brand_id = e.brand_id AND c.mode = e.mode
)
SELECT x.order_id, x.refund_id, x.beneficiary, x.guide_id, x.store_id, x.brand_id, x.category,
       x.business_date, -{base_clawback} / 100.0, x.rate, x.plan_id,
       -{amount_clawback} / 100.0,
       x.mode, x.hold_days, CASE WHEN x.mode = {t0} THEN NULL ELSE COALESCE(sg.id, ss.id) END,
       %(now)s, {kind}, CAST(NULL AS BIGINT)
FROM x
{open_settlements}
WHERE true
ON CONFLICT DO NOTHING
""").format(
            entry_columns=ENTRY_COLUMNS,
            refund_cents=cents("r.amount"),
            base_cents=cents("e.base_amount"),
            amount_cents=cents("e.amount"),
            order_cents=cents("o.amount"),
            order_filter=order_filter(vendor, by),
            periods=periods,
            base_clawback=clawback_cents(
                "x.base_cents", "x.cum_after", "x.cum_before", "x.order_cents"
            ),
            amount_clawback=clawback_cents(
                "x.amount_cents", "x.cum_after", "x.cum_before", "x.order_cents"
            ),
            t0=T0,
            open_settlements=open_settlement_joins("x"),
            kind=KIND_REFUND,
            **T,
        )
    )


# --- A guide's share added once the member's binding landed ------------------------------


def _late_guide_shares(vendor: str) -> Composable:
    """The order's store shares (alias ``x``) as the guide shares they call for.

    The guide earns on the same base, under the same plan and terms as the
    store's entry (its guide rate), so the late share is what the guide would
    have earned at once; it goes in the first period still open (``periods``).
    """
    periods = period_columns(vendor, "e.business_date", "e.mode", "e.hold_days")
    return SQL("""
    SELECT e.order_id, o.attributed_guide_id AS guide_id, e.store_id, e.brand_id, e.category,
           e.business_date, {base_cents} AS base_cents, p.guide_rate, e.plan_id, e.mode,
           e.hold_days, {guide_side} AS beneficiary, {periods}
    FROM {entry} e
    JOIN {order} o ON o.id = e.order_id
    JOIN {plan} p ON p.id = e.plan_id
    LEFT JOIN {cutoff} c ON c.brand_id = e.brand_id AND c.mode = e.mode
    WHERE e.order_id = %(order_id)s AND e.refund_id IS NULL AND e.beneficiary = {store_side}
      AND o.attributed_guide_id IS NOT NULL
    """).format(
        base_cents=cents("e.base_amount"), guide_side=GUIDE.literal, store_side=STORE.literal,
        periods=periods, **T,
    )  # fmt: skip


@cache
def open_settlements_for_late_guide_entries(vendor: str) -> str:
    """Open the guide's settlements that an order's late guide shares go in."""
    keys = SQL("""
    SELECT x.beneficiary, x.guide_id, x.store_id, x.brand_id, x.mode, x.period_start,
           x.period_end
    FROM ({shares}) x
    WHERE x.mode <> {t0}
    """).format(shares=_late_guide_shares(vendor), t0=T0)
    return render(insert_open_settlements(keys))


@cache
def insert_late_guide_entries(vendor: str) -> str:
    """Write the attributed guide's shares of an order whose store shares were written before.

    Kind ``bound_guide_late``: appended beside the store's entries, never
    replacing any. A T+0 share is settled with the order's T+0 settlement.
    """
    return render(
        SQL("""
INSERT INTO {entry} ({entry_columns})
SELECT x.order_id, CAST(NULL AS BIGINT), {guide_side}, x.guide_id, x.store_id, x.brand_id,
       x.category, x.business_date, x.base_cents / 100.0, x.guide_rate, x.plan_id,
       {guide_commission}, x.mode, x.hold_days, sg.id, %(now)s, {kind}, CAST(NULL AS BIGINT)
FROM ({shares}) x
{guide_settlement}
WHERE true
ON CONFLICT DO NOTHING
""").format(
            entry_columns=ENTRY_COLUMNS,
            guide_side=GUIDE.literal,
            guide_commission=commission_yuan("x.base_cents", "x.guide_rate"),
            kind=KIND_LATE,
            shares=_late_guide_shares(vendor),
            guide_settlement=open_settlement_join(
                GUIDE, alias="sg", entry="x", condition=SQL("x.mode <> {}").format(T0)
            ),
            **T,
        )
    )


# --- Adjustments -------------------------------------------------------------------------


@cache
def insert_adjustment_entry(vendor: str) -> str:
    """Book adjustment %(adjustment_id)s as its one entry, unsettled, under the terms in force.

    The terms are the beneficiary's (the store's own, else the brand's), as
    for an order's entries; the settlement is claimed next.
    """
    return render(
        SQL("""
INSERT INTO {entry} ({entry_columns})
SELECT NULL, NULL, k.beneficiary, k.guide_id, k.store_id, k.brand_id, '', k.business_date,
       0, 0, NULL, k.amount, {terms_mode}, {terms_hold}, NULL, %(now)s, {kind}, k.id
FROM {adjustment} k
{terms_join}
WHERE k.id = %(adjustment_id)s
ON CONFLICT DO NOTHING
""").format(
            entry_columns=ENTRY_COLUMNS,
            terms_mode=TERMS_MODE,
            terms_hold=TERMS_HOLD,
            terms_join=TERMS_JOIN,
            kind=KIND_ADJUSTMENT,
            **T,
        )
    )


@cache
def orders_missing_entries(vendor: str, *, by_brand: bool) -> str:
    """Select the orders dated ``%(since)s``–``%(until)s`` with an entry or clawback missing.

    Anti-joins on the entries' unique indexes: cheap when nothing is missing.
    An order earns nothing (and is not missing anything) while its brand has
    no plan valid on its date.
    """
    brand = SQL("AND o.brand_id = %(brand_id)s" if by_brand else "")
    return render(
        SQL("""
        SELECT o.id FROM {order} o
        WHERE o.business_date BETWEEN %(since)s AND %(until)s {brand}
          AND NOT EXISTS (SELECT 1 FROM {entry} e
                          WHERE e.order_id = o.id AND e.refund_id IS NULL)
          AND EXISTS (SELECT 1 FROM {plan} p
                      WHERE p.brand_id = o.brand_id AND p.valid_from <= o.business_date
                        AND (p.valid_to IS NULL OR p.valid_to >= o.business_date))
        UNION
        SELECT o.id FROM {refund} r JOIN {order} o ON o.id = r.order_id
        WHERE r.business_date BETWEEN %(since)s AND %(until)s {brand}
          AND NOT EXISTS (SELECT 1 FROM {entry} e WHERE e.refund_id = r.id)
          AND EXISTS (SELECT 1 FROM {entry} e
                      WHERE e.order_id = o.id AND e.refund_id IS NULL)
        """).format(brand=brand, **T)
    )

# ruff: noqa: S608 - table names come from model metadata; every value is a bound parameter.
"""The set-based statements of the ledger: one definition of the rules for one order or a million.

Every statement here is plain SQL that PostgreSQL and SQLite (3.33+) both run.
Money is computed in integer cents so that both databases round exactly the
same way as ``calculations.py``: ``(2·n + d) / (2·d)`` is ``n / d`` rounded
half up for non-negative integers. ``{order_filter}`` is a condition on the
alias ``o`` choosing the orders to work on.
"""

from apps.commissions.models import (
    CommissionEntry,
    CommissionPlan,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementCutoff,
    SettlementTerms,
)
from apps.guides.models import Guide
from apps.stores.models import Store

T = {
    "entry": CommissionEntry._meta.db_table,
    "plan": CommissionPlan._meta.db_table,
    "order": Order._meta.db_table,
    "line": OrderLine._meta.db_table,
    "refund": Refund._meta.db_table,
    "settlement": Settlement._meta.db_table,
    "terms": SettlementTerms._meta.db_table,
    "cutoff": SettlementCutoff._meta.db_table,
    "store": Store._meta.db_table,
    "guide": Guide._meta.db_table,
}

ENTRY_COLUMNS = (
    "order_id, refund_id, beneficiary, guide_id, store_id, brand_id, category, business_date, "
    "base_amount, rate, plan_id, amount, mode, hold_days, settlement_id, created_at"
)


def _cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


def _commission(base_cents: str, rate: str) -> str:
    """Return ``base × rate %`` in yuan, rounded half up to the cent."""
    return f"((2 * {base_cents} * {_cents(rate)} + 10000) / 20000) / 100.0"


# Dates differ between the two databases: PostgreSQL adds integers to dates
# and truncates to months, SQLite has date() modifiers. Both compare ISO dates.
def _date_plus(vendor: str, date_expr: str, days_expr: str) -> str:
    if vendor == "postgresql":
        return f"({date_expr} + {days_expr})"
    return f"date({date_expr}, '+' || ({days_expr}) || ' days')"


def _month_start(vendor: str, date_expr: str) -> str:
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {date_expr}) AS date)"
    return f"date({date_expr}, 'start of month')"


def _month_end(vendor: str, date_expr: str) -> str:
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {date_expr}) + INTERVAL '1 month - 1 day' AS date)"
    return f"date({date_expr}, 'start of month', '+1 month', '-1 day')"


def _period_columns(vendor: str, *, date: str, mode: str, hold: str, closed: str) -> str:
    """Select ``period_start`` and ``period_end`` of the settlement an entry belongs in.

    An entry is due ``hold`` days after its business date (a monthly one in its
    month); if the run has already closed that period for the brand, the entry
    waits for the first period after the cutoff ``closed``.
    """
    due = f"CASE WHEN {mode} = 'MONTHLY' THEN {date} ELSE {_date_plus(vendor, date, hold)} END"
    anchor = (
        f"CASE WHEN {closed} IS NOT NULL AND {closed} >= ({due}) "
        f"THEN {_date_plus(vendor, closed, '1')} ELSE ({due}) END"
    )
    return (
        f"CASE WHEN {mode} = 'MONTHLY' THEN {_month_start(vendor, anchor)} ELSE {anchor} END"
        f" AS period_start, "
        f"CASE WHEN {mode} = 'MONTHLY' THEN {_month_end(vendor, anchor)} ELSE {anchor} END"
        f" AS period_end"
    )


# The terms in force for (brand_id, store_id) of alias ``k``: the store's own,
# else the brand default, else T+1.
TERMS_JOIN = f"""
    LEFT JOIN {T["terms"]} ts ON ts.brand_id = k.brand_id AND ts.store_id = k.store_id
    LEFT JOIN {T["terms"]} tb ON tb.brand_id = k.brand_id AND tb.store_id IS NULL
"""
TERMS_MODE = "COALESCE(ts.mode, tb.mode, 'T1')"
TERMS_HOLD = (
    "CASE WHEN ts.id IS NOT NULL THEN ts.hold_days WHEN tb.id IS NOT NULL THEN tb.hold_days "
    "ELSE 1 END"
)

# Open settlements for keyed rows ``{source}`` (columns beneficiary, guide_id,
# store_id, brand_id, mode, period_start, period_end). The guide's settlement
# belongs to the guide's store. Existing ones are kept (ON CONFLICT).
_INSERT_OPEN_SETTLEMENTS = f"""
INSERT INTO {T["settlement"]} (beneficiary, guide_id, store_id, brand_id, mode, period_start,
    period_end, source_ref, entries_total, carried_forward, total, status, payout_ref, run_token,
    created_at)
WITH due AS ({{source}})
SELECT 'store', NULL, d.store_id, d.brand_id, d.mode, d.period_start, d.period_end,
       '', 0, 0, 0, 'open', '', '', %(now)s
FROM due d WHERE d.beneficiary = 'store'
GROUP BY d.store_id, d.brand_id, d.mode, d.period_start, d.period_end
UNION ALL
SELECT 'guide', d.guide_id, g.store_id, d.brand_id, d.mode, d.period_start, d.period_end,
       '', 0, 0, 0, 'open', '', '', %(now)s
FROM due d JOIN {T["guide"]} g ON g.id = d.guide_id
WHERE d.beneficiary = 'guide'
GROUP BY d.guide_id, g.store_id, d.brand_id, d.mode, d.period_start, d.period_end
ON CONFLICT DO NOTHING
"""

# The open settlement an entry row (alias ``x``: beneficiary, guide_id,
# store_id, brand_id, mode, period_start) belongs in, as two hash-joinable
# outer joins; ``COALESCE(sg.id, ss.id)`` is its id.
_OPEN_SETTLEMENT_JOINS = f"""
    LEFT JOIN {T["settlement"]} sg
        ON x.beneficiary = 'guide' AND sg.beneficiary = 'guide' AND sg.status = 'open'
       AND sg.guide_id = x.guide_id AND sg.brand_id = x.brand_id AND sg.mode = x.mode
       AND sg.period_start = x.period_start AND sg.source_ref = ''
    LEFT JOIN {T["settlement"]} ss
        ON x.beneficiary = 'store' AND ss.beneficiary = 'store' AND ss.status = 'open'
       AND ss.store_id = x.store_id AND ss.brand_id = x.brand_id AND ss.mode = x.mode
       AND ss.period_start = x.period_start AND ss.source_ref = ''
"""


def open_settlements_for_orders(vendor: str) -> str:
    """Open the settlements that the entries of orders ``{order_filter}`` will go in."""
    periods = _period_columns(
        vendor, date="k.business_date", mode=TERMS_MODE, hold=TERMS_HOLD,
        closed="c.closed_through",
    )  # fmt: skip
    keys = f"""
    SELECT b.beneficiary, k.guide_id, k.store_id, k.brand_id, {TERMS_MODE} AS mode, {periods}
    FROM (
        SELECT DISTINCT o.brand_id, o.store_id, o.attributed_guide_id AS guide_id,
               o.business_date
        FROM {T["order"]} o
        WHERE ({{order_filter}})
          AND NOT EXISTS (SELECT 1 FROM {T["entry"]} x
                          WHERE x.order_id = o.id AND x.refund_id IS NULL)
    ) k
    {TERMS_JOIN}
    LEFT JOIN {T["cutoff"]} c ON c.brand_id = k.brand_id AND c.mode = {TERMS_MODE}
    CROSS JOIN (SELECT 'guide' AS beneficiary UNION ALL SELECT 'store') b
    WHERE {TERMS_MODE} <> 'T0' AND (b.beneficiary = 'store' OR k.guide_id IS NOT NULL)
    """
    return _INSERT_OPEN_SETTLEMENTS.replace("{source}", keys)


def open_settlements_for_refunds(vendor: str) -> str:
    """Open the settlements that the clawbacks of refunds of orders ``{order_filter}`` go in."""
    periods = _period_columns(
        vendor, date="k.business_date", mode="k.mode", hold="k.hold_days",
        closed="c.closed_through",
    )  # fmt: skip
    keys = f"""
    SELECT k.beneficiary, k.guide_id, k.store_id, k.brand_id, k.mode, {periods}
    FROM (
        SELECT DISTINCT e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, e.hold_days,
               r.business_date
        FROM {T["refund"]} r
        JOIN {T["entry"]} e ON e.order_id = r.order_id AND e.refund_id IS NULL
        WHERE r.order_id IN (SELECT o.id FROM {T["order"]} o WHERE {{order_filter}})
          AND e.mode <> 'T0'
          AND NOT EXISTS (SELECT 1 FROM {T["entry"]} x WHERE x.refund_id = r.id)
    ) k
    LEFT JOIN {T["cutoff"]} c ON c.brand_id = k.brand_id AND c.mode = k.mode
    """
    return _INSERT_OPEN_SETTLEMENTS.replace("{source}", keys)


# Original entries: one per (order, category base, beneficiary). The plan is
# resolved once per distinct (brand, store, category, business date), not per
# order: a big sale day has a million orders but only thousands of such keys.
# Each entry goes straight into its open settlement; a T+0 entry is written
# unsettled and claimed by the T+0 settlement of its order.
def insert_order_entries(vendor: str) -> str:
    periods = _period_columns(
        vendor, date="r.business_date", mode="r.mode", hold="r.hold_days",
        closed="c.closed_through",
    )  # fmt: skip
    return f"""
INSERT INTO {T["entry"]} ({ENTRY_COLUMNS})
WITH bases AS (
    SELECT o.id AS order_id, l.category AS category,
           CAST(SUM({_cents("l.amount")}) AS BIGINT) AS base_cents,
           o.brand_id, o.store_id, o.business_date, o.attributed_guide_id
    FROM {T["order"]} o JOIN {T["line"]} l ON l.order_id = o.id
    WHERE o.has_lines AND ({{order_filter}})
    GROUP BY o.id, l.category, o.brand_id, o.store_id, o.business_date, o.attributed_guide_id
    UNION ALL
    SELECT o.id, '', {_cents("o.amount")}, o.brand_id, o.store_id, o.business_date,
           o.attributed_guide_id
    FROM {T["order"]} o
    WHERE NOT o.has_lines AND ({{order_filter}})
),
keyed AS (
    SELECT b.order_id, b.category, b.base_cents, b.brand_id, b.store_id, s.kind AS store_kind,
           b.business_date, b.attributed_guide_id
    FROM bases b
    JOIN {T["store"]} s ON s.id = b.store_id
),
plan_keys AS (
    SELECT DISTINCT brand_id, store_id, store_kind, category, business_date FROM keyed
),
resolved AS MATERIALIZED (
    SELECT k.brand_id, k.store_id, k.category, k.business_date,
        (SELECT p.id FROM {T["plan"]} p
         WHERE p.brand_id = k.brand_id
           AND (p.store_id IS NULL OR p.store_id = k.store_id)
           AND (p.store_kind = '' OR p.store_kind = k.store_kind)
           AND (p.category = '' OR p.category = k.category)
           AND p.valid_from <= k.business_date
           AND (p.valid_to IS NULL OR p.valid_to >= k.business_date)
         ORDER BY p.specificity DESC, p.valid_from DESC
         LIMIT 1) AS plan_id,
        {TERMS_MODE} AS mode,
        {TERMS_HOLD} AS hold_days
    FROM plan_keys k
    {TERMS_JOIN}
),
priced_keys AS MATERIALIZED (
    SELECT r.brand_id, r.store_id, r.category, r.business_date, r.plan_id, r.mode, r.hold_days,
           p.guide_rate, p.store_rate, {periods}
    FROM resolved r
    JOIN {T["plan"]} p ON p.id = r.plan_id
    LEFT JOIN {T["cutoff"]} c ON c.brand_id = r.brand_id AND c.mode = r.mode
),
priced AS (
    SELECT k.order_id, k.attributed_guide_id, k.store_id, k.brand_id, k.category,
           k.business_date, k.base_cents, r.guide_rate, r.store_rate, r.plan_id, r.mode,
           r.hold_days, r.period_start, ss.id AS store_settlement_id
    FROM keyed k
    JOIN priced_keys r ON r.brand_id = k.brand_id AND r.store_id = k.store_id
                      AND r.category = k.category AND r.business_date = k.business_date
    LEFT JOIN {T["settlement"]} ss
        ON r.mode <> 'T0' AND ss.beneficiary = 'store' AND ss.status = 'open'
       AND ss.store_id = r.store_id AND ss.brand_id = r.brand_id AND ss.mode = r.mode
       AND ss.period_start = r.period_start AND ss.source_ref = ''
)
SELECT x.order_id, CAST(NULL AS BIGINT), 'store', CAST(NULL AS BIGINT), x.store_id,
       x.brand_id, x.category, x.business_date, x.base_cents / 100.0, x.store_rate, x.plan_id,
       {_commission("x.base_cents", "x.store_rate")},
       x.mode, x.hold_days, x.store_settlement_id, %(now)s
FROM priced x
UNION ALL
SELECT x.order_id, CAST(NULL AS BIGINT), 'guide', x.attributed_guide_id, x.store_id,
       x.brand_id, x.category, x.business_date, x.base_cents / 100.0, x.guide_rate, x.plan_id,
       {_commission("x.base_cents", "x.guide_rate")}, x.mode, x.hold_days, sg.id, %(now)s
FROM priced x
LEFT JOIN {T["settlement"]} sg
    ON x.mode <> 'T0' AND sg.beneficiary = 'guide' AND sg.status = 'open'
   AND sg.guide_id = x.attributed_guide_id AND sg.brand_id = x.brand_id AND sg.mode = x.mode
   AND sg.period_start = x.period_start AND sg.source_ref = ''
WHERE x.attributed_guide_id IS NOT NULL
ON CONFLICT DO NOTHING
"""


def insert_refund_entries(vendor: str) -> str:
    periods = _period_columns(
        vendor, date="r.business_date", mode="e.mode", hold="e.hold_days",
        closed="c.closed_through",
    )  # fmt: skip
    return f"""
INSERT INTO {T["entry"]} ({ENTRY_COLUMNS})
WITH refunds AS (
    SELECT r.id, r.order_id, r.business_date, {_cents("r.amount")} AS cents,
           CAST(SUM({_cents("r.amount")}) OVER (PARTITION BY r.order_id ORDER BY r.id)
                AS BIGINT) AS cum_after
    FROM {T["refund"]} r
    WHERE r.order_id IN (SELECT o.id FROM {T["order"]} o WHERE {{order_filter}})
),
x AS (
    SELECT e.order_id, r.id AS refund_id, e.beneficiary, e.guide_id, e.store_id, e.brand_id,
           e.category, r.business_date, e.rate, e.plan_id, e.mode, e.hold_days,
           {_cents("e.base_amount")} AS base_cents, {_cents("e.amount")} AS amount_cents,
           r.cum_after, r.cum_after - r.cents AS cum_before, {_cents("o.amount")} AS order_cents,
           {periods}
    FROM refunds r
    JOIN {T["entry"]} e ON e.order_id = r.order_id AND e.refund_id IS NULL
    JOIN {T["order"]} o ON o.id = r.order_id
    LEFT JOIN {T["cutoff"]} c ON c.brand_id = e.brand_id AND c.mode = e.mode
)
SELECT x.order_id, x.refund_id, x.beneficiary, x.guide_id, x.store_id, x.brand_id, x.category,
       x.business_date,
       -((2 * x.base_cents * x.cum_after + x.order_cents) / (2 * x.order_cents)
         - (2 * x.base_cents * x.cum_before + x.order_cents) / (2 * x.order_cents)) / 100.0,
       x.rate, x.plan_id,
       -((2 * x.amount_cents * x.cum_after + x.order_cents) / (2 * x.order_cents)
         - (2 * x.amount_cents * x.cum_before + x.order_cents) / (2 * x.order_cents)) / 100.0,
       x.mode, x.hold_days, CASE WHEN x.mode = 'T0' THEN NULL ELSE COALESCE(sg.id, ss.id) END,
       %(now)s
FROM x
{_OPEN_SETTLEMENT_JOINS}
WHERE true
ON CONFLICT DO NOTHING
"""


def open_settlements_for_unsettled(vendor: str) -> str:
    """Open settlements for entries ``{entry_filter}`` (alias ``e``) written without one.

    Such entries are rare: a T+1 entry whose open settlement a concurrent
    writer had not yet committed, or entries from before open settlements.
    """
    periods = _period_columns(
        vendor, date="e.business_date", mode="e.mode", hold="e.hold_days",
        closed="c.closed_through",
    )  # fmt: skip
    keys = f"""
    SELECT e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, {periods}
    FROM {T["entry"]} e
    LEFT JOIN {T["cutoff"]} c ON c.brand_id = e.brand_id AND c.mode = e.mode
    WHERE e.settlement_id IS NULL AND e.mode <> 'T0' AND ({{entry_filter}})
    """
    return _INSERT_OPEN_SETTLEMENTS.replace("{source}", keys)


def claim_unsettled_into_open(vendor: str) -> str:
    """Move entries ``{entry_filter}`` written without a settlement into their open one."""
    periods = _period_columns(
        vendor, date="e.business_date", mode="e.mode", hold="e.hold_days",
        closed="c.closed_through",
    )  # fmt: skip
    return f"""
UPDATE {T["entry"]} AS u SET settlement_id = m.settlement_id
FROM (
    SELECT x.id, COALESCE(sg.id, ss.id) AS settlement_id
    FROM (
        SELECT e.id, e.beneficiary, e.guide_id, e.store_id, e.brand_id, e.mode, {periods}
        FROM {T["entry"]} e
        LEFT JOIN {T["cutoff"]} c ON c.brand_id = e.brand_id AND c.mode = e.mode
        WHERE e.settlement_id IS NULL AND e.mode <> 'T0' AND ({{entry_filter}})
    ) x
    {_OPEN_SETTLEMENT_JOINS}
) m
WHERE u.id = m.id AND u.settlement_id IS NULL AND m.settlement_id IS NOT NULL
"""


# Closing: open settlements ``{settlement_filter}`` (alias ``s``) that no entry
# went in are dropped; the others get their totals and this run's token.
DELETE_EMPTY_OPEN_SETTLEMENTS = f"""
DELETE FROM {T["settlement"]}
WHERE id IN (
    SELECT s.id FROM {T["settlement"]} s
    WHERE s.status = 'open' AND ({{settlement_filter}})
      AND NOT EXISTS (SELECT 1 FROM {T["entry"]} e WHERE e.settlement_id = s.id)
)
"""

CLOSE_OPEN_SETTLEMENTS = f"""
UPDATE {T["settlement"]} AS t
SET status = 'settled', run_token = %(run_token)s, created_at = %(now)s,
    entries_total = sums.total, total = sums.total
FROM (
    SELECT e.settlement_id, SUM(e.amount) AS total
    FROM {T["entry"]} e JOIN {T["settlement"]} s ON s.id = e.settlement_id
    WHERE s.status = 'open' AND ({{settlement_filter}})
    GROUP BY e.settlement_id
) sums
WHERE t.id = sums.settlement_id
"""


# Settlement, step 1: one row per beneficiary among the unsettled entries that
# ``{entry_filter}`` (a condition on alias ``e``) selects. A settlement that
# already exists for the period is left alone (its entries stay for the next
# run), which is what makes re-running a date write nothing.
INSERT_SETTLEMENTS = {
    "guide": f"""
INSERT INTO {T["settlement"]} (beneficiary, guide_id, store_id, brand_id, mode, period_start,
    period_end, source_ref, entries_total, carried_forward, total, status, payout_ref, run_token,
    created_at)
SELECT 'guide', e.guide_id, g.store_id, e.brand_id, e.mode, %(period_start)s, %(period_end)s,
       %(source_ref)s, 0, 0, 0, 'settled', '', %(run_token)s, %(now)s
FROM {T["entry"]} e JOIN {T["guide"]} g ON g.id = e.guide_id
WHERE e.settlement_id IS NULL AND e.beneficiary = 'guide' AND ({{entry_filter}})
GROUP BY e.guide_id, g.store_id, e.brand_id, e.mode
ON CONFLICT DO NOTHING
""",
    "store": f"""
INSERT INTO {T["settlement"]} (beneficiary, guide_id, store_id, brand_id, mode, period_start,
    period_end, source_ref, entries_total, carried_forward, total, status, payout_ref, run_token,
    created_at)
SELECT 'store', NULL, e.store_id, e.brand_id, e.mode, %(period_start)s, %(period_end)s,
       %(source_ref)s, 0, 0, 0, 'settled', '', %(run_token)s, %(now)s
FROM {T["entry"]} e
WHERE e.settlement_id IS NULL AND e.beneficiary = 'store' AND ({{entry_filter}})
GROUP BY e.store_id, e.brand_id, e.mode
ON CONFLICT DO NOTHING
""",
}

# Step 2: claim the entries for this run's settlements. ``settlement_id IS
# NULL`` makes the claim atomic: a concurrent claimer's row lock makes this
# statement re-check the condition and skip what the other took.
CLAIM_ENTRIES = {
    "guide": f"""
UPDATE {T["entry"]} AS e SET settlement_id = s.id
FROM {T["settlement"]} s
WHERE s.run_token = %(run_token)s AND s.beneficiary = 'guide'
  AND e.settlement_id IS NULL AND e.beneficiary = 'guide'
  AND e.guide_id = s.guide_id AND e.brand_id = s.brand_id AND e.mode = s.mode
  AND ({{entry_filter}})
""",
    "store": f"""
UPDATE {T["entry"]} AS e SET settlement_id = s.id
FROM {T["settlement"]} s
WHERE s.run_token = %(run_token)s AND s.beneficiary = 'store'
  AND e.settlement_id IS NULL AND e.beneficiary = 'store'
  AND e.store_id = s.store_id AND e.brand_id = s.brand_id AND e.mode = s.mode
  AND ({{entry_filter}})
""",
}

DELETE_EMPTY_SETTLEMENTS = f"""
DELETE FROM {T["settlement"]}
WHERE run_token = %(run_token)s
  AND NOT EXISTS (SELECT 1 FROM {T["entry"]} e WHERE e.settlement_id = {T["settlement"]}.id)
"""

# Step 3 (after carried balances are set): totals are sums of entries.
UPDATE_TOTALS = f"""
UPDATE {T["settlement"]} AS s
SET entries_total = sums.total, total = sums.total + s.carried_forward
FROM (
    SELECT e.settlement_id, SUM(e.amount) AS total
    FROM {T["entry"]} e
    WHERE e.settlement_id IN (SELECT id FROM {T["settlement"]} WHERE run_token = %(run_token)s)
    GROUP BY e.settlement_id
) sums
WHERE s.id = sums.settlement_id
"""

# T+0 settlement of many orders in one run, as ``settlement_settle_t0`` settles
# one: a settlement per order and beneficiary, dated the order's business date
# and referenced ``order:<order_no>``, taking the order's unsettled T+0
# entries. ``{order_filter}`` is a condition on the orders (alias ``o``).
_T0_ORDER_ENTRIES = (
    "e.settlement_id IS NULL AND e.refund_id IS NULL AND e.mode = 'T0' AND ({order_filter})"
)
INSERT_T0_ORDER_SETTLEMENTS = {
    "guide": f"""
INSERT INTO {T["settlement"]} (beneficiary, guide_id, store_id, brand_id, mode, period_start,
    period_end, source_ref, entries_total, carried_forward, total, status, payout_ref, run_token,
    created_at)
SELECT 'guide', e.guide_id, g.store_id, e.brand_id, e.mode, o.business_date, o.business_date,
       'order:' || o.order_no, 0, 0, 0, 'settled', '', %(run_token)s, %(now)s
FROM {T["entry"]} e
JOIN {T["guide"]} g ON g.id = e.guide_id
JOIN {T["order"]} o ON o.id = e.order_id
WHERE e.beneficiary = 'guide' AND {_T0_ORDER_ENTRIES}
GROUP BY o.id, o.order_no, o.business_date, e.guide_id, g.store_id, e.brand_id, e.mode
ON CONFLICT DO NOTHING
""",
    "store": f"""
INSERT INTO {T["settlement"]} (beneficiary, guide_id, store_id, brand_id, mode, period_start,
    period_end, source_ref, entries_total, carried_forward, total, status, payout_ref, run_token,
    created_at)
SELECT 'store', NULL, e.store_id, e.brand_id, e.mode, o.business_date, o.business_date,
       'order:' || o.order_no, 0, 0, 0, 'settled', '', %(run_token)s, %(now)s
FROM {T["entry"]} e
JOIN {T["order"]} o ON o.id = e.order_id
WHERE e.beneficiary = 'store' AND {_T0_ORDER_ENTRIES}
GROUP BY o.id, o.order_no, o.business_date, e.store_id, e.brand_id, e.mode
ON CONFLICT DO NOTHING
""",
}

# Each entry goes in its own order's settlement of this run.
CLAIM_T0_ORDER_ENTRIES = {
    "guide": f"""
UPDATE {T["entry"]} AS e SET settlement_id = s.id
FROM {T["settlement"]} s, {T["order"]} o
WHERE s.run_token = %(run_token)s AND s.beneficiary = 'guide'
  AND o.id = e.order_id AND s.source_ref = 'order:' || o.order_no
  AND e.beneficiary = 'guide' AND e.guide_id = s.guide_id AND e.brand_id = s.brand_id
  AND e.mode = s.mode AND {_T0_ORDER_ENTRIES}
""",
    "store": f"""
UPDATE {T["entry"]} AS e SET settlement_id = s.id
FROM {T["settlement"]} s, {T["order"]} o
WHERE s.run_token = %(run_token)s AND s.beneficiary = 'store'
  AND o.id = e.order_id AND s.source_ref = 'order:' || o.order_no
  AND e.beneficiary = 'store' AND e.store_id = s.store_id AND e.brand_id = s.brand_id
  AND e.mode = s.mode AND {_T0_ORDER_ENTRIES}
""",
}

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
    "store": Store._meta.db_table,
    "guide": Guide._meta.db_table,
}

ENTRY_COLUMNS = (
    "order_id, refund_id, beneficiary, guide_id, store_id, brand_id, category, business_date, "
    "base_amount, rate, plan_id, amount, mode, hold_days, settlement_id, created_at"
)


def _cents(expr: str) -> str:
    return f"CAST(ROUND({expr} * 100) AS BIGINT)"


# Original entries: one per (order, category base, beneficiary). The plan is
# resolved once per distinct (brand, store, category, business date), not per
# order: a big sale day has a million orders but only thousands of such keys.
INSERT_ORDER_ENTRIES = f"""
INSERT INTO {T["entry"]} ({ENTRY_COLUMNS})
WITH bases AS (
    SELECT o.id AS order_id, l.category AS category,
           CAST(SUM({_cents("l.amount")}) AS BIGINT) AS base_cents
    FROM {T["order"]} o JOIN {T["line"]} l ON l.order_id = o.id
    WHERE o.has_lines AND ({{order_filter}})
    GROUP BY o.id, l.category
    UNION ALL
    SELECT o.id, '', {_cents("o.amount")}
    FROM {T["order"]} o
    WHERE NOT o.has_lines AND ({{order_filter}})
),
keyed AS (
    SELECT b.order_id, b.category, b.base_cents, o.brand_id, o.store_id, s.kind AS store_kind,
           o.business_date, o.attributed_guide_id
    FROM bases b
    JOIN {T["order"]} o ON o.id = b.order_id
    JOIN {T["store"]} s ON s.id = o.store_id
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
        COALESCE(ts.mode, tb.mode, 'T1') AS mode,
        CASE WHEN ts.id IS NOT NULL THEN ts.hold_days
             WHEN tb.id IS NOT NULL THEN tb.hold_days
             ELSE 1 END AS hold_days
    FROM plan_keys k
    LEFT JOIN {T["terms"]} ts ON ts.brand_id = k.brand_id AND ts.store_id = k.store_id
    LEFT JOIN {T["terms"]} tb ON tb.brand_id = k.brand_id AND tb.store_id IS NULL
),
beneficiaries AS (
    SELECT 'guide' AS beneficiary UNION ALL SELECT 'store'
),
priced AS (
    SELECT k.order_id, b.beneficiary,
           CASE WHEN b.beneficiary = 'guide' THEN k.attributed_guide_id END AS guide_id,
           k.store_id, k.brand_id, k.category, k.business_date, k.base_cents,
           CASE WHEN b.beneficiary = 'guide' THEN p.guide_rate ELSE p.store_rate END AS rate,
           p.id AS plan_id, r.mode, r.hold_days
    FROM keyed k
    JOIN resolved r ON r.brand_id = k.brand_id AND r.store_id = k.store_id
                   AND r.category = k.category AND r.business_date = k.business_date
    JOIN {T["plan"]} p ON p.id = r.plan_id
    CROSS JOIN beneficiaries b
    WHERE b.beneficiary = 'store' OR k.attributed_guide_id IS NOT NULL
)
SELECT order_id, NULL, beneficiary, guide_id, store_id, brand_id, category, business_date,
       base_cents / 100.0, rate, plan_id,
       ((2 * base_cents * {_cents("rate")} + 10000) / 20000) / 100.0,
       mode, hold_days, NULL, %(now)s
FROM priced
WHERE true
ON CONFLICT DO NOTHING
"""

# Refund entries mirror each original entry of the order, negated, for the
# refunded share. Each refund takes back round(cumulative share after it) −
# round(cumulative share before it), so a fully refunded order nets to 0.00.
INSERT_REFUND_ENTRIES = f"""
INSERT INTO {T["entry"]} ({ENTRY_COLUMNS})
WITH refunds AS (
    SELECT r.id, r.order_id, r.business_date, {_cents("r.amount")} AS cents,
           CAST(SUM({_cents("r.amount")}) OVER (PARTITION BY r.order_id ORDER BY r.id)
                AS BIGINT) AS cum_after
    FROM {T["refund"]} r
    WHERE r.order_id IN (SELECT o.id FROM {T["order"]} o WHERE {{order_filter}})
),
shares AS (
    SELECT e.order_id, r.id AS refund_id, e.beneficiary, e.guide_id, e.store_id, e.brand_id,
           e.category, r.business_date, e.rate, e.plan_id, e.mode, e.hold_days,
           {_cents("e.base_amount")} AS base_cents, {_cents("e.amount")} AS amount_cents,
           r.cum_after, r.cum_after - r.cents AS cum_before, {_cents("o.amount")} AS order_cents
    FROM refunds r
    JOIN {T["entry"]} e ON e.order_id = r.order_id AND e.refund_id IS NULL
    JOIN {T["order"]} o ON o.id = r.order_id
)
SELECT order_id, refund_id, beneficiary, guide_id, store_id, brand_id, category, business_date,
       -((2 * base_cents * cum_after + order_cents) / (2 * order_cents)
         - (2 * base_cents * cum_before + order_cents) / (2 * order_cents)) / 100.0,
       rate, plan_id,
       -((2 * amount_cents * cum_after + order_cents) / (2 * order_cents)
         - (2 * amount_cents * cum_before + order_cents) / (2 * order_cents)) / 100.0,
       mode, hold_days, NULL, %(now)s
FROM shares
WHERE true
ON CONFLICT DO NOTHING
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

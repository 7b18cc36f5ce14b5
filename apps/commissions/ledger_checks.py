# ruff: noqa: S608 - table names come from model metadata; every value is a bound parameter.
"""Invariants of the commission ledger, checked set-based (read only).

Each check is one SQL statement that selects the rows breaching it, so the
whole ledger is checked by a handful of scans and hash joins, never a Python
loop over orders. Money is compared in integer cents and rates in hundredths
of a percent, with the same half-up rounding as ``calculations.py``, so the
checks are exact on PostgreSQL and on SQLite (which stores decimals as floats).

``manage.py verify_ledger`` prints the report; the fault tests run it after
every fault.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from apps.commissions.models import (
    CommissionEntry,
    CommissionPlan,
    Order,
    OrderLine,
    Refund,
    Settlement,
)

T = {
    "entry": CommissionEntry._meta.db_table,
    "order": Order._meta.db_table,
    "line": OrderLine._meta.db_table,
    "refund": Refund._meta.db_table,
    "settlement": Settlement._meta.db_table,
    "plan": CommissionPlan._meta.db_table,
}

EXAMPLES_PER_CHECK = 10
# A refund's clawback entries are written by a task queued when the refund is
# accepted; refunds younger than this may legitimately have none yet.
DEFAULT_GRACE = dt.timedelta(minutes=10)


def _cents(expr: str) -> str:
    return f"CAST(ROUND(({expr}) * 100) AS BIGINT)"


def _sum_cents(expr: str) -> str:
    # PostgreSQL sums BIGINT into NUMERIC; integer division below needs BIGINT.
    return f"CAST(SUM({_cents(expr)}) AS BIGINT)"


def _half_up(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` rounded half up, for non-negative integers."""
    return f"((2 * ({numerator}) + ({denominator})) / (2 * ({denominator})))"


def _date_plus_days(date_expr: str, days_expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"({date_expr} + {days_expr})"
    return f"date({date_expr}, '+' || {days_expr} || ' days')"


@dataclass(frozen=True)
class LedgerScope:
    """Which part of the ledger to check: one brand and/or a range of business dates."""

    brand_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def params(self) -> dict:
        return {"brand_id": self.brand_id, "date_from": self.date_from, "date_to": self.date_to}

    def on(self, alias: str, *, dated: str | None = None) -> str:
        """Return the condition on rows of ``alias`` (an entry or an order).

        ``dated`` names another alias whose business date is filtered instead.
        """
        conditions = ["1 = 1"]
        if self.brand_id is not None:
            conditions.append(f"{alias}.brand_id = %(brand_id)s")
        if self.date_from is not None:
            conditions.append(f"{dated or alias}.business_date >= %(date_from)s")
        if self.date_to is not None:
            conditions.append(f"{dated or alias}.business_date <= %(date_to)s")
        return " AND ".join(conditions)

    def on_settlement(self, alias: str) -> str:
        """Return the condition for settlements whose period overlaps the range."""
        conditions = ["1 = 1"]
        if self.brand_id is not None:
            conditions.append(f"{alias}.brand_id = %(brand_id)s")
        if self.date_from is not None:
            conditions.append(f"{alias}.period_end >= %(date_from)s")
        if self.date_to is not None:
            conditions.append(f"{alias}.period_start <= %(date_to)s")
        return " AND ".join(conditions)


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    sql: str  # selects one row per breach; columns are shown as the example


@dataclass
class Breach:
    code: str
    title: str
    count: int
    examples: list[dict] = field(default_factory=list)


@dataclass
class LedgerReport:
    orders: int
    entries: int
    settlements: int
    breaches: list[Breach]

    @property
    def ok(self) -> bool:
        return not self.breaches


def _checks(scope: LedgerScope) -> list[Check]:
    e_scope, o_scope = scope.on("e"), scope.on("o")
    rate_of_plan = "CASE WHEN e.beneficiary = 'guide' THEN p.guide_rate ELSE p.store_rate END"
    order_cents = _cents("o.amount")
    return [
        Check(
            "entry_rate",
            "entry rate differs from the frozen rate of its plan",
            f"""
            SELECT e.id AS entry, e.order_id AS "order", e.refund_id AS refund,
                   e.beneficiary, e.plan_id AS plan, {_cents("e.rate")} AS rate_bp,
                   {_cents(rate_of_plan)} AS plan_rate_bp
            FROM {T["entry"]} e LEFT JOIN {T["plan"]} p ON p.id = e.plan_id
            WHERE {e_scope} AND (p.id IS NULL OR p.brand_id <> e.brand_id
                                 OR {_cents("e.rate")} <> {_cents(rate_of_plan)})
            """,
        ),
        Check(
            "entry_amount",
            "order entry amount is not base × rate rounded half up",
            f"""
            SELECT e.id AS entry, e.order_id AS "order", e.beneficiary, e.category,
                   {_cents("e.base_amount")} AS base_cents, {_cents("e.rate")} AS rate_bp,
                   {_cents("e.amount")} AS amount_cents,
                   {_half_up(f"{_cents('e.base_amount')} * {_cents('e.rate')}", "10000")}
                       AS expected_cents
            FROM {T["entry"]} e
            WHERE e.refund_id IS NULL AND {e_scope}
              AND {_cents("e.amount")}
                  <> {_half_up(f"{_cents('e.base_amount')} * {_cents('e.rate')}", "10000")}
            """,
        ),
        Check(
            "entry_base",
            "order entry base is not the order amount (or the sum of its category's lines)",
            f"""
            SELECT e.id AS entry, e.order_id AS "order", e.category,
                   {_cents("e.base_amount")} AS base_cents, b.expected AS expected_cents
            FROM (
                SELECT e.id AS entry_id,
                       CASE WHEN o.has_lines THEN lb.cents
                            WHEN e.category = '' THEN {order_cents} END AS expected
                FROM {T["entry"]} e
                JOIN {T["order"]} o ON o.id = e.order_id
                LEFT JOIN (
                    SELECT l.order_id, l.category, {_sum_cents("l.amount")} AS cents
                    FROM {T["line"]} l
                    WHERE l.order_id IN (SELECT e.order_id FROM {T["entry"]} e
                                         WHERE e.refund_id IS NULL AND {e_scope})
                    GROUP BY l.order_id, l.category
                ) lb ON lb.order_id = e.order_id AND lb.category = e.category
                WHERE e.refund_id IS NULL AND {e_scope}
            ) b JOIN {T["entry"]} e ON e.id = b.entry_id
            WHERE b.expected IS NULL OR {_cents("e.base_amount")} <> b.expected
            """,
        ),
        Check(
            "entry_source",
            "entry does not match its order or refund",
            f"""
            SELECT * FROM (
                SELECT e.id AS entry, e.order_id AS "order", e.refund_id AS refund, e.beneficiary,
                    CASE
                        WHEN o.id IS NULL THEN 'order missing'
                        WHEN e.refund_id IS NOT NULL AND r.id IS NULL THEN 'refund missing'
                        WHEN e.refund_id IS NOT NULL AND r.order_id <> e.order_id
                            THEN 'refund of another order'
                        WHEN e.brand_id <> o.brand_id THEN 'brand differs from the order'
                        WHEN e.store_id <> o.store_id THEN 'store differs from the order'
                        WHEN e.beneficiary = 'guide'
                             AND (o.attributed_guide_id IS NULL
                                  OR e.guide_id <> o.attributed_guide_id)
                            THEN 'guide is not the attributed guide'
                        WHEN e.refund_id IS NULL AND e.business_date <> o.business_date
                            THEN 'business date differs from the order'
                        WHEN e.refund_id IS NOT NULL AND e.business_date <> r.business_date
                            THEN 'business date differs from the refund'
                    END AS problem
                FROM {T["entry"]} e
                LEFT JOIN {T["order"]} o ON o.id = e.order_id
                LEFT JOIN {T["refund"]} r ON r.id = e.refund_id
                WHERE {e_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        Check(
            "clawback",
            "refund entry is not the refunded share of its order entry",
            f"""
            SELECT * FROM (
                SELECT e.id AS entry, e.order_id AS "order", e.refund_id AS refund,
                    e.beneficiary, e.category, {_cents("e.amount")} AS amount_cents,
                    -({_half_up(f"{_cents('e0.amount')} * rc.cum_after", order_cents)}
                      - {
                _half_up(f"{_cents('e0.amount')} * (rc.cum_after - rc.cents)", order_cents)
            }) AS expected_cents,
                    CASE
                        WHEN e0.id IS NULL THEN 'no order entry to claw back from'
                        WHEN {_cents("e.rate")} <> {_cents("e0.rate")} OR e.plan_id <> e0.plan_id
                             OR e.mode <> e0.mode OR e.hold_days <> e0.hold_days
                            THEN 'rate, plan or terms differ from the order entry'
                        WHEN COALESCE(e.guide_id, 0) <> COALESCE(e0.guide_id, 0)
                            THEN 'guide differs from the order entry'
                        WHEN {_cents("e.amount")}
                             <> -({_half_up(f"{_cents('e0.amount')} * rc.cum_after", order_cents)}
                                  - {
                _half_up(f"{_cents('e0.amount')} * (rc.cum_after - rc.cents)", order_cents)
            })
                            THEN 'amount'
                        WHEN {_cents("e.base_amount")}
                             <> -({
                _half_up(f"{_cents('e0.base_amount')} * rc.cum_after", order_cents)
            }
                                  - {
                _half_up(f"{_cents('e0.base_amount')} * (rc.cum_after - rc.cents)", order_cents)
            })
                            THEN 'base amount'
                    END AS problem
                FROM {T["entry"]} e
                JOIN {T["order"]} o ON o.id = e.order_id
                JOIN (
                    SELECT r.id, {_cents("r.amount")} AS cents,
                           CAST(SUM({_cents("r.amount")})
                                OVER (PARTITION BY r.order_id ORDER BY r.id) AS BIGINT) AS cum_after
                    FROM {T["refund"]} r
                    WHERE r.order_id IN (SELECT e.order_id FROM {T["entry"]} e
                                         WHERE e.refund_id IS NOT NULL AND {e_scope})
                ) rc ON rc.id = e.refund_id
                LEFT JOIN {T["entry"]} e0
                    ON e0.order_id = e.order_id AND e0.refund_id IS NULL
                   AND e0.beneficiary = e.beneficiary AND e0.category = e.category
                WHERE e.refund_id IS NOT NULL AND {e_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        Check(
            "clawback_missing",
            "refund has no clawback entry for an entry of its order",
            f"""
            SELECT r.id AS refund, r.refund_no, r.order_id AS "order", e0.beneficiary,
                   e0.category
            FROM {T["refund"]} r
            JOIN {T["order"]} o ON o.id = r.order_id
            JOIN {T["entry"]} e0 ON e0.order_id = r.order_id AND e0.refund_id IS NULL
            WHERE {scope.on("o", dated="r")}
              AND r.created_at <= %(grace_cutoff)s
              AND NOT EXISTS (
                  SELECT 1 FROM {T["entry"]} e
                  WHERE e.refund_id = r.id AND e.beneficiary = e0.beneficiary
                    AND e.category = e0.category)
            """,
        ),
        Check(
            "refunded_net",
            "refunded order does not net to its unrefunded share (zero once fully refunded)",
            f"""
            SELECT * FROM (
                SELECT e0.order_id AS "order", e0.beneficiary, e0.category,
                       {order_cents} AS order_cents, {
                _cents("o.refunded_amount")
            } AS refunded_cents,
                       {_cents("e0.amount")} + COALESCE(cb.cents, 0) AS net_cents,
                       {_cents("e0.amount")}
                       - {
                _half_up(f"{_cents('e0.amount')} * {_cents('o.refunded_amount')}", order_cents)
            } AS expected_net_cents
                FROM {T["entry"]} e0
                JOIN {T["order"]} o ON o.id = e0.order_id
                LEFT JOIN (
                    SELECT e.order_id, e.beneficiary, e.category,
                           {_sum_cents("e.amount")} AS cents
                    FROM {T["entry"]} e
                    WHERE e.refund_id IS NOT NULL
                      AND e.order_id IN (SELECT o.id FROM {T["order"]} o
                                         WHERE o.refunded_amount > 0 AND {o_scope})
                    GROUP BY e.order_id, e.beneficiary, e.category
                ) cb ON cb.order_id = e0.order_id AND cb.beneficiary = e0.beneficiary
                    AND cb.category = e0.category
                WHERE e0.refund_id IS NULL AND o.refunded_amount > 0 AND {o_scope}
                  AND NOT EXISTS (SELECT 1 FROM {T["refund"]} r
                                  WHERE r.order_id = o.id AND r.created_at > %(grace_cutoff)s)
            ) x WHERE x.net_cents <> x.expected_net_cents
            """,
        ),
        Check(
            "order_refunded_amount",
            "order's refunded amount is not the sum of its refunds",
            f"""
            SELECT o.id AS "order", o.order_no, {_cents("o.refunded_amount")} AS refunded_cents,
                   COALESCE(rs.cents, 0) AS refunds_cents
            FROM {T["order"]} o
            LEFT JOIN (
                SELECT r.order_id, {_sum_cents("r.amount")} AS cents
                FROM {T["refund"]} r
                WHERE r.order_id IN (SELECT o.id FROM {T["order"]} o WHERE {o_scope})
                GROUP BY r.order_id
            ) rs ON rs.order_id = o.id
            WHERE {o_scope} AND {_cents("o.refunded_amount")} <> COALESCE(rs.cents, 0)
            """,
        ),
        Check(
            "entry_twice",
            "the same order or refund share is written twice (so it could be settled twice)",
            f"""
            SELECT e.order_id AS "order", e.refund_id AS refund, e.beneficiary, e.category,
                   COUNT(*) AS copies, MIN(e.settlement_id) AS settlement,
                   MAX(e.settlement_id) AS other_settlement
            FROM {T["entry"]} e
            WHERE {e_scope}
            GROUP BY e.order_id, e.refund_id, e.beneficiary, e.category
            HAVING COUNT(*) > 1
            """,
        ),
        Check(
            "entry_settlement",
            "settled entry does not belong in its settlement",
            f"""
            SELECT * FROM (
                SELECT e.id AS entry, e.settlement_id AS settlement, e.beneficiary,
                    CASE
                        WHEN s.id IS NULL THEN 'settlement missing'
                        WHEN s.beneficiary <> e.beneficiary THEN 'other beneficiary'
                        WHEN s.brand_id <> e.brand_id THEN 'other brand'
                        WHEN s.mode <> e.mode THEN 'other settlement mode'
                        WHEN e.beneficiary = 'guide' AND s.guide_id <> e.guide_id
                            THEN 'other guide'
                        WHEN e.beneficiary = 'store' AND s.store_id <> e.store_id
                            THEN 'other store'
                        WHEN s.period_end < {_date_plus_days("e.business_date", "e.hold_days")}
                            THEN 'settled before it was due'
                    END AS problem
                FROM {T["entry"]} e
                LEFT JOIN {T["settlement"]} s ON s.id = e.settlement_id
                WHERE e.settlement_id IS NOT NULL AND {e_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        Check(
            "settlement_total",
            "settlement totals do not equal the sum of its entries (plus the carried balance)",
            f"""
            SELECT * FROM (
                SELECT s.id AS settlement, s.beneficiary, COALESCE(sums.n, 0) AS entries,
                    COALESCE(sums.cents, 0) AS entry_sum_cents,
                    {_cents("s.entries_total")} AS entries_total_cents,
                    {_cents("s.carried_forward")} AS carried_cents,
                    {_cents("s.total")} AS total_cents,
                    CASE
                        WHEN sums.n IS NULL THEN 'no entries'
                        WHEN {_cents("s.entries_total")} <> sums.cents
                            THEN 'entries total differs from its entries'
                        WHEN {_cents("s.total")}
                             <> {_cents("s.entries_total")} + {_cents("s.carried_forward")}
                            THEN 'total is not entries total plus carried balance'
                    END AS problem
                FROM {T["settlement"]} s
                LEFT JOIN (
                    SELECT e.settlement_id, COUNT(*) AS n, {_sum_cents("e.amount")} AS cents
                    FROM {T["entry"]} e
                    WHERE e.settlement_id IN (SELECT s.id FROM {T["settlement"]} s
                                              WHERE {scope.on_settlement("s")})
                    GROUP BY e.settlement_id
                ) sums ON sums.settlement_id = s.id
                -- An open settlement's totals are summed when the run closes it.
                WHERE s.status <> 'open' AND {scope.on_settlement("s")}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        Check(
            "settlement_carry",
            "settlement's carried balance does not match the settlement it came from",
            f"""
            SELECT * FROM (
                SELECT s.id AS settlement, s.carried_from_id AS carried_from,
                    {_cents("s.carried_forward")} AS carried_cents,
                    {_cents("p.total")} AS previous_total_cents,
                    CASE
                        WHEN p.id IS NULL AND {_cents("s.carried_forward")} <> 0
                            THEN 'carries a balance from no settlement'
                        WHEN p.id IS NOT NULL
                             AND {_cents("s.carried_forward")} <> {_cents("p.total")}
                            THEN 'carried amount differs from the previous total'
                        WHEN p.id IS NOT NULL AND {_cents("p.total")} >= 0
                            THEN 'previous settlement was not negative'
                        WHEN p.id IS NOT NULL AND (p.beneficiary <> s.beneficiary
                             OR p.brand_id <> s.brand_id
                             OR (s.beneficiary = 'guide' AND p.guide_id <> s.guide_id)
                             OR (s.beneficiary = 'store' AND p.store_id <> s.store_id))
                            THEN 'carried from another beneficiary'
                        WHEN s.status = 'paid' AND {_cents("s.total")} < 0
                            THEN 'negative settlement marked paid'
                    END AS problem
                FROM {T["settlement"]} s
                LEFT JOIN {T["settlement"]} p ON p.id = s.carried_from_id
                WHERE {scope.on_settlement("s")}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
    ]


def ledger_verify(
    *,
    scope: LedgerScope | None = None,
    examples: int = EXAMPLES_PER_CHECK,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> LedgerReport:
    """Check every ledger invariant in ``scope``; return the counts and the breaches found."""
    scope = scope or LedgerScope()
    params = {
        **scope.params(),
        "grace_cutoff": connection.ops.adapt_datetimefield_value(timezone.now() - grace),
        "limit": examples,
    }
    breaches = []
    with connection.cursor() as cursor:
        for check in _checks(scope):
            # The window count is taken before LIMIT: every breach is counted,
            # only the first few are fetched.
            cursor.execute(
                f"SELECT breach.*, COUNT(*) OVER () AS breach_count "
                f"FROM ({check.sql}) breach ORDER BY 1 LIMIT %(limit)s",
                params,
            )
            rows = cursor.fetchall()
            if not rows:
                continue
            names = [column[0] for column in cursor.description][:-1]
            breaches.append(
                Breach(
                    code=check.code,
                    title=check.title,
                    count=rows[0][-1],
                    examples=[_readable(dict(zip(names, row[:-1], strict=True))) for row in rows],
                )
            )
        counts = {}
        for name, table, alias, condition in (
            ("orders", T["order"], "o", scope.on("o")),
            ("entries", T["entry"], "e", scope.on("e")),
            ("settlements", T["settlement"], "s", scope.on_settlement("s")),
        ):
            cursor.execute(f"SELECT COUNT(*) FROM {table} {alias} WHERE {condition}", params)
            counts[name] = cursor.fetchone()[0]
    return LedgerReport(breaches=breaches, **counts)


def _readable(row: dict) -> dict:
    """Show ``*_cents`` columns as money and ``*_bp`` columns as percentages."""
    shown = {}
    for name, value in row.items():
        if name.endswith("_cents") and value is not None:
            shown[name.removesuffix("_cents")] = (Decimal(int(value)) / 100).quantize(
                Decimal("0.01")
            )
        elif name.endswith("_bp") and value is not None:
            shown[name.removesuffix("_bp")] = f"{(Decimal(int(value)) / 100):.2f}%"
        else:
            shown[name] = value
    return shown

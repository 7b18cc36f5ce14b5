"""The ledger's invariants as statements, each selecting the rows that breach one.

The whole ledger is checked by a handful of scans and hash joins, never a
Python loop over orders. Money is compared in integer cents and rates in
hundredths of a percent, with the same half-up rounding as the entries were
written with (``dialect``), so the checks are exact on PostgreSQL and on
SQLite (which stores decimals as floats).
"""

import datetime as dt
from dataclasses import dataclass
from functools import cache

from apps.commissions.models import ATTRIBUTION_REFRESHABLE
from apps.commissions.sql.dialect import (
    GUIDE,
    KIND_LATE,
    OPEN,
    PAID,
    STORE,
    T,
    clawback_cents,
    share_cents,
)
from apps.commissions.sql.entries import plan_choice
from apps.core.sql import (
    SQL,
    Composable,
    Literal,
    cents,
    date_plus,
    half_up,
    render,
    sum_cents,
    tables,
)
from apps.customers.models import Customer, Membership

MEMBERS = tables(customer=Customer, membership=Membership)


@dataclass(frozen=True)
class LedgerScope:
    """Which part of the ledger to check: one brand and/or a range of business dates."""

    brand_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def params(self) -> dict:
        return {"brand_id": self.brand_id, "date_from": self.date_from, "date_to": self.date_to}

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which conditions the scope sets: the statements differ only by these."""
        return (self.brand_id is not None, self.date_from is not None, self.date_to is not None)


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    sql: str  # selects one row per breach; columns are shown as the example


def _scoped(shape, *, brand: str, starts: str, ends: str) -> Composable:
    """The scope's condition: the brand of ``brand``, a range that ``starts``–``ends`` overlaps.

    For rows with one business date, ``starts`` and ``ends`` are that date.
    """
    by_brand, by_from, by_to = shape
    conditions = [SQL("1 = 1")]
    if by_brand:
        conditions.append(SQL(f"{brand}.brand_id = %(brand_id)s"))
    if by_from:
        conditions.append(SQL(f"{ends} >= %(date_from)s"))
    if by_to:
        conditions.append(SQL(f"{starts} <= %(date_to)s"))
    return SQL(" AND ").join(conditions)


def _dated(shape, alias: str, *, dated: str | None = None) -> Composable:
    """The scope's condition on rows of ``alias``, by the business date of ``dated``."""
    date = f"{dated or alias}.business_date"
    return _scoped(shape, brand=alias, starts=date, ends=date)


def _settlements(shape, alias: str) -> Composable:
    """The scope's condition on settlements whose period overlaps the range."""
    return _scoped(shape, brand=alias, starts=f"{alias}.period_start", ends=f"{alias}.period_end")


@cache
def ledger_checks(vendor: str, shape: tuple[bool, bool, bool]) -> tuple[Check, ...]:
    """Return every check for a scope of ``shape`` (``LedgerScope.shape``)."""
    e_scope, o_scope = _dated(shape, "e"), _dated(shape, "o")
    rate_of_plan = SQL(
        "CASE WHEN e.beneficiary = {} THEN p.guide_rate ELSE p.store_rate END"
    ).format(GUIDE.literal)
    names = {
        **T,
        **MEMBERS,
        "a_scope": _dated(shape, "a"),
        "late": KIND_LATE,
        "refreshable": SQL(", ").join(Literal(reason) for reason in ATTRIBUTION_REFRESHABLE),
        "pending": Literal(Membership.Status.PENDING.value),
        "plan_in_force": plan_choice("k"),
        "adjustment_cents": cents("a.amount"),
        "e_scope": e_scope,
        "o_scope": o_scope,
        "refund_scope": _dated(shape, "o", dated="r"),
        "s_scope": _settlements(shape, "s"),
        "open": OPEN,
        "paid": PAID,
        "guide_side": GUIDE.literal,
        "store_side": STORE.literal,
        "order_cents": cents("o.amount"),
        "entry_rate_bp": cents("e.rate"),
        "plan_rate_bp": cents(rate_of_plan),
        "entry_cents": cents("e.amount"),
        "base_cents": cents("e.base_amount"),
        "expected_amount_cents": half_up(
            SQL("{} * {}").format(cents("e.base_amount"), cents("e.rate")), "10000"
        ),
        "expected_clawback_cents": clawback_cents(
            cents("e0.amount"), "rc.cum_after", "rc.cum_after - rc.cents", cents("o.amount")
        ),
        "expected_base_clawback_cents": clawback_cents(
            cents("e0.base_amount"), "rc.cum_after", "rc.cum_after - rc.cents", cents("o.amount")
        ),
        "refunded_share_cents": share_cents(
            cents("e0.amount"), cents("o.refunded_amount"), cents("o.amount")
        ),
        "due_date": date_plus(vendor, "e.business_date", "e.hold_days"),
        "line_sum_cents": sum_cents("l.amount"),
        "e0_rate_bp": cents("e0.rate"),
        "e0_cents": cents("e0.amount"),
        "refund_cents": cents("r.amount"),
        "refund_sum_cents": sum_cents("r.amount"),
        "entry_sum_cents": sum_cents("e.amount"),
        "refunded_cents": cents("o.refunded_amount"),
        "total_cents": cents("s.total"),
        "entries_total_cents": cents("s.entries_total"),
        "carried_cents": cents("s.carried_forward"),
        "previous_total_cents": cents("p.total"),
    }

    def check(code: str, title: str, statement: str) -> Check:
        return Check(code, title, render(SQL(statement).format(**names)))

    return (
        check(
            "business_date",
            "order or refund has a business date outside the sane window",
            """
            SELECT * FROM (
                SELECT o.id AS "order", NULL AS refund, o.order_no AS number, o.business_date
                FROM {order} o
                WHERE {o_scope}
                  AND (o.business_date < %(dates_from)s OR o.business_date > %(dates_to)s)
                UNION ALL
                SELECT r.order_id, r.id, r.refund_no, r.business_date
                FROM {refund} r JOIN {order} o ON o.id = r.order_id
                WHERE {refund_scope}
                  AND (r.business_date < %(dates_from)s OR r.business_date > %(dates_to)s)
            ) x
            """,
        ),
        check(
            "entry_rate",
            "entry rate differs from the frozen rate of its plan",
            """
            SELECT e.id AS entry, e.order_id AS "order", e.refund_id AS refund,
                   e.beneficiary, e.plan_id AS plan, {entry_rate_bp} AS rate_bp,
                   {plan_rate_bp} AS plan_rate_bp
            FROM {entry} e LEFT JOIN {plan} p ON p.id = e.plan_id
            WHERE {e_scope} AND e.adjustment_id IS NULL AND e.bonus_award_id IS NULL
              AND (p.id IS NULL OR p.brand_id <> e.brand_id OR {entry_rate_bp} <> {plan_rate_bp})
            """,
        ),
        check(
            "entry_amount",
            "order entry amount is not base × rate rounded half up",
            """
            SELECT e.id AS entry, e.order_id AS "order", e.beneficiary, e.category,
                   {base_cents} AS base_cents, {entry_rate_bp} AS rate_bp,
                   {entry_cents} AS amount_cents, {expected_amount_cents} AS expected_cents
            FROM {entry} e
            WHERE e.refund_id IS NULL AND e.adjustment_id IS NULL AND e.bonus_award_id IS NULL
              AND {e_scope} AND {entry_cents} <> {expected_amount_cents}
            """,
        ),
        check(
            "entry_base",
            "order entry base is not the order amount (or the sum of its category's lines)",
            """
            SELECT e.id AS entry, e.order_id AS "order", e.category,
                   {base_cents} AS base_cents, b.expected AS expected_cents
            FROM (
                SELECT e.id AS entry_id,
                       CASE WHEN o.has_lines THEN lb.cents
                            WHEN e.category = '' THEN {order_cents} END AS expected
                FROM {entry} e
                JOIN {order} o ON o.id = e.order_id
                LEFT JOIN (
                    SELECT l.order_id, l.category, {line_sum_cents} AS cents
                    FROM {line} l
                    WHERE l.order_id IN (SELECT e.order_id FROM {entry} e
                                         WHERE e.refund_id IS NULL AND {e_scope})
                    GROUP BY l.order_id, l.category
                ) lb ON lb.order_id = e.order_id AND lb.category = e.category
                WHERE e.refund_id IS NULL AND {e_scope}
            ) b JOIN {entry} e ON e.id = b.entry_id
            WHERE b.expected IS NULL OR {base_cents} <> b.expected
            """,
        ),
        check(
            "entry_source",
            "entry does not match its order or refund",
            """
            SELECT * FROM (
                SELECT e.id AS entry, e.order_id AS "order", e.refund_id AS refund, e.beneficiary,
                    CASE
                        -- a bonus entry is checked against its award (apps.incentives)
                        WHEN e.bonus_award_id IS NOT NULL THEN NULL
                        WHEN e.adjustment_id IS NOT NULL THEN
                            CASE WHEN ad.id IS NULL THEN 'adjustment missing' END
                        WHEN o.id IS NULL THEN 'order missing'
                        WHEN e.refund_id IS NOT NULL AND r.id IS NULL THEN 'refund missing'
                        WHEN e.refund_id IS NOT NULL AND r.order_id <> e.order_id
                            THEN 'refund of another order'
                        WHEN e.brand_id <> o.brand_id THEN 'brand differs from the order'
                        WHEN e.store_id <> o.store_id THEN 'store differs from the order'
                        WHEN e.beneficiary = {guide_side}
                             AND (o.attributed_guide_id IS NULL
                                  OR e.guide_id <> o.attributed_guide_id)
                            THEN 'guide is not the attributed guide'
                        WHEN e.refund_id IS NULL AND e.business_date <> o.business_date
                            THEN 'business date differs from the order'
                        WHEN e.refund_id IS NOT NULL AND e.business_date <> r.business_date
                            THEN 'business date differs from the refund'
                        WHEN e.kind = {late} THEN
                            CASE WHEN NOT EXISTS (
                                SELECT 1 FROM {entry} s
                                WHERE s.order_id = e.order_id AND s.refund_id IS NULL
                                  AND s.beneficiary = {store_side} AND s.category = e.category
                                  AND s.plan_id = e.plan_id AND s.base_amount = e.base_amount)
                                THEN 'late guide share has no store share of the same base'
                            END
                    END AS problem
                FROM {entry} e
                LEFT JOIN {order} o ON o.id = e.order_id
                LEFT JOIN {refund} r ON r.id = e.refund_id
                LEFT JOIN {adjustment} ad ON ad.id = e.adjustment_id
                WHERE {e_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        check(
            "clawback",
            "refund entry is not the refunded share of its order entry",
            """
            SELECT * FROM (
                SELECT e.id AS entry, e.order_id AS "order", e.refund_id AS refund,
                    e.beneficiary, e.category, {entry_cents} AS amount_cents,
                    -{expected_clawback_cents} AS expected_cents,
                    CASE
                        WHEN e0.id IS NULL THEN 'no order entry to claw back from'
                        WHEN {entry_rate_bp} <> {e0_rate_bp} OR e.plan_id <> e0.plan_id
                             OR e.mode <> e0.mode OR e.hold_days <> e0.hold_days
                            THEN 'rate, plan or terms differ from the order entry'
                        WHEN COALESCE(e.guide_id, 0) <> COALESCE(e0.guide_id, 0)
                            THEN 'guide differs from the order entry'
                        WHEN {entry_cents} <> -{expected_clawback_cents}
                            THEN 'amount'
                        WHEN {base_cents} <> -{expected_base_clawback_cents}
                            THEN 'base amount'
                    END AS problem
                FROM {entry} e
                JOIN {order} o ON o.id = e.order_id
                JOIN (
                    SELECT r.id, {refund_cents} AS cents,
                           CAST(SUM({refund_cents})
                                OVER (PARTITION BY r.order_id ORDER BY r.id) AS BIGINT) AS cum_after
                    FROM {refund} r
                    WHERE r.order_id IN (SELECT e.order_id FROM {entry} e
                                         WHERE e.refund_id IS NOT NULL AND {e_scope})
                ) rc ON rc.id = e.refund_id
                LEFT JOIN {entry} e0
                    ON e0.order_id = e.order_id AND e0.refund_id IS NULL
                   AND e0.beneficiary = e.beneficiary AND e0.category = e.category
                WHERE e.refund_id IS NOT NULL AND {e_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        check(
            "clawback_missing",
            "refund has no clawback entry for an entry of its order",
            """
            SELECT r.id AS refund, r.refund_no, r.order_id AS "order", e0.beneficiary,
                   e0.category
            FROM {refund} r
            JOIN {order} o ON o.id = r.order_id
            JOIN {entry} e0 ON e0.order_id = r.order_id AND e0.refund_id IS NULL
            WHERE {refund_scope}
              AND r.created_at <= %(grace_cutoff)s
              AND NOT EXISTS (
                  SELECT 1 FROM {entry} e
                  WHERE e.refund_id = r.id AND e.beneficiary = e0.beneficiary
                    AND e.category = e0.category)
            """,
        ),
        check(
            "refunded_net",
            "refunded order does not net to its unrefunded share (zero once fully refunded)",
            """
            SELECT * FROM (
                SELECT e0.order_id AS "order", e0.beneficiary, e0.category,
                       {order_cents} AS order_cents, {refunded_cents} AS refunded_cents,
                       {e0_cents} + COALESCE(cb.cents, 0) AS net_cents,
                       {e0_cents} - {refunded_share_cents} AS expected_net_cents
                FROM {entry} e0
                JOIN {order} o ON o.id = e0.order_id
                LEFT JOIN (
                    SELECT e.order_id, e.beneficiary, e.category, {entry_sum_cents} AS cents
                    FROM {entry} e
                    WHERE e.refund_id IS NOT NULL
                      AND e.order_id IN (SELECT o.id FROM {order} o
                                         WHERE o.refunded_amount > 0 AND {o_scope})
                    GROUP BY e.order_id, e.beneficiary, e.category
                ) cb ON cb.order_id = e0.order_id AND cb.beneficiary = e0.beneficiary
                    AND cb.category = e0.category
                WHERE e0.refund_id IS NULL AND o.refunded_amount > 0 AND {o_scope}
                  AND NOT EXISTS (SELECT 1 FROM {refund} r
                                  WHERE r.order_id = o.id AND r.created_at > %(grace_cutoff)s)
            ) x WHERE x.net_cents <> x.expected_net_cents
            """,
        ),
        check(
            "order_refunded_amount",
            "order's refunded amount is not the sum of its refunds",
            """
            SELECT o.id AS "order", o.order_no, {refunded_cents} AS refunded_cents,
                   COALESCE(rs.cents, 0) AS refunds_cents
            FROM {order} o
            LEFT JOIN (
                SELECT r.order_id, {refund_sum_cents} AS cents
                FROM {refund} r
                WHERE r.order_id IN (SELECT o.id FROM {order} o WHERE {o_scope})
                GROUP BY r.order_id
            ) rs ON rs.order_id = o.id
            WHERE {o_scope} AND {refunded_cents} <> COALESCE(rs.cents, 0)
            """,
        ),
        check(
            "entry_twice",
            "the same order or refund share is written twice (so it could be settled twice)",
            """
            SELECT e.order_id AS "order", e.refund_id AS refund,
                   e.adjustment_id AS adjustment, e.bonus_award_id AS bonus_award,
                   e.beneficiary, e.category, COUNT(*) AS copies,
                   MIN(e.settlement_id) AS settlement, MAX(e.settlement_id) AS other_settlement
            FROM {entry} e
            WHERE {e_scope}
            GROUP BY e.order_id, e.refund_id, e.adjustment_id, e.bonus_award_id, e.beneficiary,
                     e.category
            HAVING COUNT(*) > 1
            """,
        ),
        check(
            "entry_missing",
            "order has no entry for a share it earns (its entry task was lost)",
            """
            SELECT * FROM (
                SELECT k.order_id AS "order", k.order_no, k.category,
                    CASE
                        WHEN NOT EXISTS (SELECT 1 FROM {entry} e
                                         WHERE e.order_id = k.order_id AND e.refund_id IS NULL
                                           AND e.beneficiary = {store_side}
                                           AND e.category = k.category)
                            THEN 'store share missing'
                        WHEN k.attributed_guide_id IS NOT NULL
                             AND NOT EXISTS (SELECT 1 FROM {entry} e
                                             WHERE e.order_id = k.order_id
                                               AND e.refund_id IS NULL
                                               AND e.beneficiary = {guide_side}
                                               AND e.category = k.category)
                            THEN 'guide share missing'
                    END AS problem
                FROM (
                    SELECT o.id AS order_id, o.order_no, o.brand_id, o.store_id,
                           st.kind AS store_kind, o.business_date, o.attributed_guide_id,
                           c.category
                    FROM {order} o
                    JOIN {store} st ON st.id = o.store_id
                    JOIN (
                        SELECT DISTINCT l.order_id, l.category FROM {line} l
                        WHERE l.order_id IN (SELECT o.id FROM {order} o
                                             WHERE o.has_lines AND {o_scope})
                        UNION ALL
                        SELECT o.id, '' FROM {order} o WHERE NOT o.has_lines AND {o_scope}
                    ) c ON c.order_id = o.id
                    WHERE {o_scope} AND o.created_at <= %(grace_cutoff)s
                ) k
                WHERE EXISTS ({plan_in_force})
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        check(
            "attribution_open",
            "order still credits no guide although its member's binding has landed",
            """
            SELECT o.id AS "order", o.order_no, o.attribution_reason AS reason,
                   m.id AS membership, m.assignment_status AS membership_status
            FROM {order} o
            JOIN {customer} c ON c.phone = o.member_phone
            JOIN {membership} m ON m.customer_id = c.id AND m.brand_id = o.brand_id
            WHERE {o_scope} AND o.attribution_reason IN ({refreshable})
              AND o.member_phone <> '' AND m.assignment_status <> {pending}
              AND o.created_at <= %(grace_cutoff)s AND m.updated_at <= %(grace_cutoff)s
            """,
        ),
        check(
            "adjustment",
            "adjustment is not booked as exactly its one entry",
            """
            SELECT * FROM (
                SELECT a.id AS adjustment, a.reference, e.id AS entry,
                    {adjustment_cents} AS amount_cents,
                    CASE
                        WHEN e.id IS NULL THEN 'no entry'
                        WHEN {entry_cents} <> {adjustment_cents} THEN 'amount differs'
                        WHEN e.beneficiary <> a.beneficiary OR e.brand_id <> a.brand_id
                             OR e.store_id <> a.store_id
                             OR COALESCE(e.guide_id, 0) <> COALESCE(a.guide_id, 0)
                            THEN 'beneficiary differs'
                        WHEN e.business_date <> a.business_date THEN 'business date differs'
                    END AS problem
                FROM {adjustment} a
                LEFT JOIN {entry} e ON e.adjustment_id = a.id
                WHERE {a_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        check(
            "entry_settlement",
            "settled entry does not belong in its settlement",
            """
            SELECT * FROM (
                SELECT e.id AS entry, e.settlement_id AS settlement, e.beneficiary,
                    CASE
                        WHEN s.id IS NULL THEN 'settlement missing'
                        WHEN s.beneficiary <> e.beneficiary THEN 'other beneficiary'
                        WHEN s.brand_id <> e.brand_id THEN 'other brand'
                        WHEN s.mode <> e.mode THEN 'other settlement mode'
                        WHEN e.beneficiary = {guide_side} AND s.guide_id <> e.guide_id
                            THEN 'other guide'
                        WHEN e.beneficiary = {store_side} AND s.store_id <> e.store_id
                            THEN 'other store'
                        WHEN s.period_end < {due_date}
                            THEN 'settled before it was due'
                    END AS problem
                FROM {entry} e
                LEFT JOIN {settlement} s ON s.id = e.settlement_id
                WHERE e.settlement_id IS NOT NULL AND {e_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        check(
            "settlement_total",
            "settlement totals or entry count do not equal its entries (plus the carried balance)",
            """
            SELECT * FROM (
                SELECT s.id AS settlement, s.beneficiary, COALESCE(sums.n, 0) AS entries,
                    COALESCE(sums.cents, 0) AS entry_sum_cents,
                    {entries_total_cents} AS entries_total_cents,
                    s.entry_count AS stored_entry_count,
                    {carried_cents} AS carried_cents,
                    {total_cents} AS total_cents,
                    CASE
                        WHEN sums.n IS NULL THEN 'no entries'
                        WHEN {entries_total_cents} <> sums.cents
                            THEN 'entries total differs from its entries'
                        WHEN s.entry_count <> sums.n
                            THEN 'stored entry count differs from its entries'
                        WHEN {total_cents} <> {entries_total_cents} + {carried_cents}
                            THEN 'total is not entries total plus carried balance'
                    END AS problem
                FROM {settlement} s
                LEFT JOIN (
                    SELECT e.settlement_id, COUNT(*) AS n, {entry_sum_cents} AS cents
                    FROM {entry} e
                    WHERE e.settlement_id IN (SELECT s.id FROM {settlement} s WHERE {s_scope})
                    GROUP BY e.settlement_id
                ) sums ON sums.settlement_id = s.id
                -- An open settlement's totals are summed when the run closes it.
                WHERE s.status <> {open} AND {s_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
        check(
            "settlement_carry",
            "settlement's carried balance does not match the settlement it came from",
            """
            SELECT * FROM (
                SELECT s.id AS settlement, s.carried_from_id AS carried_from,
                    {carried_cents} AS carried_cents,
                    {previous_total_cents} AS previous_total_cents,
                    CASE
                        WHEN p.id IS NULL AND {carried_cents} <> 0
                            THEN 'carries a balance from no settlement'
                        WHEN p.id IS NOT NULL AND {carried_cents} <> {previous_total_cents}
                            THEN 'carried amount differs from the previous total'
                        WHEN p.id IS NOT NULL AND {previous_total_cents} >= 0
                            THEN 'previous settlement was not negative'
                        WHEN p.id IS NOT NULL AND (p.beneficiary <> s.beneficiary
                             OR p.brand_id <> s.brand_id
                             OR (s.beneficiary = {guide_side} AND p.guide_id <> s.guide_id)
                             OR (s.beneficiary = {store_side} AND p.store_id <> s.store_id))
                            THEN 'carried from another beneficiary'
                        WHEN s.status = {paid} AND {total_cents} < 0
                            THEN 'negative settlement marked paid'
                    END AS problem
                FROM {settlement} s
                LEFT JOIN {settlement} p ON p.id = s.carried_from_id
                WHERE {s_scope}
            ) x WHERE x.problem IS NOT NULL
            """,
        ),
    )


@cache
def ledger_counts(vendor: str, shape: tuple[bool, bool, bool]) -> str:
    """Count the orders, entries and settlements in the scope, in one row."""
    return render(
        SQL("""
        SELECT (SELECT COUNT(*) FROM {order} o WHERE {o_scope}),
               (SELECT COUNT(*) FROM {entry} e WHERE {e_scope}),
               (SELECT COUNT(*) FROM {settlement} s WHERE {s_scope})
        """).format(
            o_scope=_dated(shape, "o"),
            e_scope=_dated(shape, "e"),
            s_scope=_settlements(shape, "s"),
            **T,
        )
    )

"""The month close's statements: net sales from the ledger, bonus entries, points balances."""

from functools import cache

from apps.commissions.models import EntryKind
from apps.commissions.sql.dialect import (
    ENTRY_COLUMNS,
    GUIDE,
    TERMS_HOLD,
    TERMS_JOIN,
    TERMS_MODE,
    T,
)
from apps.core.sql import SQL, Literal, cents, in_list, render, tables
from apps.incentives.models import BonusAward, PointsAccount, PointsMovement

I = tables(award=BonusAward, account=PointsAccount, movement=PointsMovement)  # noqa: E741
KIND_BONUS = Literal(EntryKind.BONUS.value)


@cache
def net_sales(vendor: str) -> str:
    """Net sales per beneficiary of %(brand_id)s for sales dated %(start)s–%(end)s.

    Sales are the bases of order entries (and late guide shares) dated in the
    month; refunds count against the month of their order, whenever they
    came, so a refund after the close lowers the closed month. Two branches
    of one scan: the sales by their own date, the clawbacks (a few percent,
    found through the refund key's index) joined to their orders. Written as
    one predicate with the order's date looked up per row, PostgreSQL
    misjudged the rows by ten times and sorted two million of them on disk,
    looked each clawback's order up twice and ran no parallel workers.
    """
    who = SQL("CASE WHEN e.beneficiary = {} THEN e.guide_id ELSE e.store_id END").format(
        GUIDE.literal
    )
    return render(
        SQL("""
SELECT s.beneficiary, s.who, CAST(SUM(s.base_cents) AS BIGINT)
FROM (
    SELECT e.beneficiary, {who} AS who, {base_cents} AS base_cents
    FROM {entry} e
    WHERE e.brand_id = %(brand_id)s AND e.order_id IS NOT NULL AND e.refund_id IS NULL
      AND e.business_date BETWEEN %(start)s AND %(end)s
    UNION ALL
    SELECT e.beneficiary, {who}, {base_cents}
    FROM {entry} e JOIN {order} o ON o.id = e.order_id
    WHERE e.brand_id = %(brand_id)s AND e.refund_id IS NOT NULL AND e.business_date >= %(start)s
      AND o.business_date BETWEEN %(start)s AND %(end)s
) s
GROUP BY s.beneficiary, s.who
""").format(who=who, base_cents=cents("e.base_amount"), **T)
    )


def _unbooked() -> SQL:
    return SQL(
        "a.brand_id = %(brand_id)s AND a.month = %(month)s AND a.entry_id IS NULL AND a.amount <> 0"
    )


@cache
def insert_bonus_entries(vendor: str) -> str:
    """Book the month's awards that have no entry yet, one entry each, under the terms in force.

    Dated the run's day, with no base or rate (the inputs are on the award);
    a guide's bonus is paid with the guide's current store, as the guide's
    other entries are. Settled next, like an adjustment.
    """
    return render(
        SQL("""
INSERT INTO {entry} ({entry_columns}, bonus_award_id)
SELECT NULL, NULL, k.beneficiary, k.guide_id, k.store_id, k.brand_id, '', %(run_date)s,
       0, 0, NULL, k.amount, {terms_mode}, {terms_hold}, NULL, %(now)s, {kind}, NULL, k.id
FROM (
    SELECT a.id, a.beneficiary, a.guide_id, COALESCE(g.store_id, a.store_id) AS store_id,
           a.brand_id, a.amount
    FROM {award} a LEFT JOIN {guide} g ON g.id = a.guide_id
    WHERE {unbooked}
) k
{terms_join}
ON CONFLICT DO NOTHING
""").format(
            entry_columns=ENTRY_COLUMNS,
            terms_mode=TERMS_MODE,
            terms_hold=TERMS_HOLD,
            terms_join=TERMS_JOIN,
            kind=KIND_BONUS,
            unbooked=_unbooked(),
            **T,
            **I,
        )
    )


@cache
def link_bonus_entries(vendor: str) -> str:
    """Point each newly booked award at its entry."""
    return render(
        SQL("""
UPDATE {award} AS a
SET entry_id = (SELECT e.id FROM {entry} e WHERE e.bonus_award_id = a.id)
WHERE {unbooked}
""").format(unbooked=_unbooked(), **T, **I)
    )


@cache
def accounts_open(vendor: str) -> str:
    """Open a points account for %(brand_id)s for each guide of %(guide_ids)s that has none."""
    return render(
        SQL("""
INSERT INTO {account} (guide_id, brand_id, balance)
SELECT g.id, %(brand_id)s, 0 FROM {guide} g WHERE {guides}
ON CONFLICT DO NOTHING
""").format(guides=in_list(vendor, "g.id", "guide_ids"), guide=T["guide"], **I)
    )


@cache
def balances_add_run(vendor: str) -> str:
    """Add the movements written at %(now)s to their accounts' balances."""
    return render(
        SQL("""
UPDATE {account} AS a SET balance = a.balance + d.points
FROM (SELECT m.account_id, SUM(m.points) AS points FROM {movement} m
      WHERE m.created_at = %(now)s GROUP BY m.account_id) d
WHERE a.id = d.account_id
""").format(**I)
    )


@cache
def balances_add_kind_run(vendor: str) -> str:
    """Add the movements of kind %(kind)s written at %(now)s to their accounts' balances."""
    return render(
        SQL("""
UPDATE {account} AS a SET balance = a.balance + d.points
FROM (SELECT m.account_id, SUM(m.points) AS points FROM {movement} m
      WHERE m.created_at = %(now)s AND m.kind = %(kind)s GROUP BY m.account_id) d
WHERE a.id = d.account_id
""").format(**I)
    )

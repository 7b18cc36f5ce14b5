"""What the ledger's statements share: tables, constants, money arithmetic, periods and terms.

Money is computed in integer cents so that PostgreSQL and SQLite round exactly
as ``apps.commissions.calculations`` does (half up, once per entry).
"""

from dataclasses import dataclass

from apps.commissions.models import (
    Beneficiary,
    CommissionAdjustment,
    CommissionEntry,
    CommissionPlan,
    EntryKind,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementCutoff,
    SettlementMode,
    SettlementTerms,
)
from apps.core.sql import (
    SQL,
    Composable,
    Literal,
    cents,
    date_plus,
    half_up,
    month_end,
    month_start,
)
from apps.core.sql import tables as _tables
from apps.guides.models import Guide
from apps.stores.models import Store

T = _tables(
    entry=CommissionEntry,
    adjustment=CommissionAdjustment,
    plan=CommissionPlan,
    order=Order,
    line=OrderLine,
    refund=Refund,
    settlement=Settlement,
    terms=SettlementTerms,
    cutoff=SettlementCutoff,
    store=Store,
    guide=Guide,
)

# Constants of the models' choices, as SQL literals.
OPEN = Literal(Settlement.Status.OPEN.value)
SETTLED = Literal(Settlement.Status.SETTLED.value)
PAID = Literal(Settlement.Status.PAID.value)
T0 = Literal(SettlementMode.T0.value)
KIND_ORDER = Literal(EntryKind.ORDER.value)
KIND_REFUND = Literal(EntryKind.REFUND.value)
KIND_LATE = Literal(EntryKind.BOUND_GUIDE_LATE.value)
KIND_ADJUSTMENT = Literal(EntryKind.ADJUSTMENT.value)
T1 = Literal(SettlementMode.T1.value)
MONTHLY = Literal(SettlementMode.MONTHLY.value)
# Settlement terms when neither the store nor the brand has any.
DEFAULT_MODE, DEFAULT_HOLD = T1, Literal(1)

ENTRY_COLUMNS = SQL(
    "order_id, refund_id, beneficiary, guide_id, store_id, brand_id, category, business_date, "
    "base_amount, rate, plan_id, amount, mode, hold_days, settlement_id, created_at, kind, "
    "adjustment_id"
)
SETTLEMENT_COLUMNS = SQL(
    "beneficiary, guide_id, store_id, brand_id, mode, period_start, period_end, source_ref, "
    "entries_total, carried_forward, total, status, payout_ref, run_token, created_at"
)


@dataclass(frozen=True)
class Side:
    """One beneficiary of the ledger: how its entries and settlements are keyed.

    A guide's settlement belongs to the guide's store (read from the guide
    row); a store's settlement to the store.
    """

    name: str
    key: str  # the column naming the beneficiary: guide_id or store_id

    @property
    def literal(self) -> Literal:
        return Literal(self.name)

    def guide_id(self, alias: str) -> Composable:
        return SQL(f"{alias}.guide_id") if self.name == Beneficiary.GUIDE else SQL("NULL")

    def store_id(self, alias: str) -> Composable:
        """The store of the settlement (``g`` is the guide joined by ``guide_join``)."""
        return SQL("g.store_id") if self.name == Beneficiary.GUIDE else SQL(f"{alias}.store_id")

    def guide_join(self, alias: str) -> Composable:
        if self.name == Beneficiary.GUIDE:
            return SQL("JOIN {guide} g ON g.id = {alias}.guide_id").format(
                guide=T["guide"], alias=SQL(alias)
            )
        return SQL("")

    def group(self, alias: str) -> Composable:
        """The beneficiary's columns to group settlements by."""
        if self.name == Beneficiary.GUIDE:
            return SQL(f"{alias}.guide_id, g.store_id")
        return SQL(f"{alias}.store_id")


GUIDE = Side(Beneficiary.GUIDE.value, "guide_id")
STORE = Side(Beneficiary.STORE.value, "store_id")
SIDES = (GUIDE, STORE)


def commission_yuan(base_cents: str, rate: str) -> Composable:
    """``base × rate %`` in yuan, rounded half up to the cent.

    The same arithmetic as ``calculations.commission_cents``.
    """
    return SQL("{} / 100.0").format(
        half_up(SQL("{} * {}").format(SQL(base_cents), cents(rate)), "10000")
    )


def share_cents(amount_cents, refunded_cents, order_cents) -> Composable:
    """The rounded share of ``amount_cents`` that ``refunded_cents`` of ``order_cents`` is."""
    return half_up(
        SQL("{} * ({})").format(_sql(amount_cents), _sql(refunded_cents)), _sql(order_cents)
    )


def clawback_cents(amount_cents, cum_after, cum_before, order_cents) -> Composable:
    """A refund's (positive) clawback of an entry: ``calculations.clawback_cents`` in SQL.

    The rounded cumulative share after the refund minus the one before it, so
    an order's clawbacks add up to its entry exactly once fully refunded.
    """
    return SQL("({} - {})").format(
        share_cents(amount_cents, cum_after, order_cents),
        share_cents(amount_cents, cum_before, order_cents),
    )


# The terms in force for (brand_id, store_id) of alias ``k``: the store's own,
# else the brand default, else T+1.
TERMS_JOIN = SQL("""
    LEFT JOIN {terms} ts ON ts.brand_id = k.brand_id AND ts.store_id = k.store_id
    LEFT JOIN {terms} tb ON tb.brand_id = k.brand_id AND tb.store_id IS NULL
""").format(terms=T["terms"])
TERMS_MODE = SQL("COALESCE(ts.mode, tb.mode, {})").format(DEFAULT_MODE)
TERMS_HOLD = SQL(
    "CASE WHEN ts.id IS NOT NULL THEN ts.hold_days WHEN tb.id IS NOT NULL THEN tb.hold_days "
    "ELSE {} END"
).format(DEFAULT_HOLD)


def period_columns(
    vendor: str, date: str, mode: str | Composable, hold: str | Composable
) -> Composable:
    """Select ``period_start`` and ``period_end`` of the settlement an entry belongs in.

    An entry is due ``hold`` days after its business date (a monthly one in its
    month); if the run has already closed that period for the brand, the entry
    waits for the first period after the cutoff. The statement joins the
    brand's cutoff for the mode as ``c``.
    """
    closed = "c.closed_through"
    mode, hold = _sql(mode), _sql(hold)
    date_, closed_ = SQL(date), SQL(closed)
    due = SQL("CASE WHEN {mode} = {monthly} THEN {date} ELSE {due} END").format(
        mode=mode, monthly=MONTHLY, date=date_, due=date_plus(vendor, date_, hold)
    )
    anchor = SQL(
        "CASE WHEN {closed} IS NOT NULL AND {closed} >= ({due}) THEN {after} ELSE ({due}) END"
    ).format(closed=closed_, due=due, after=date_plus(vendor, closed_, SQL("1")))
    return SQL(
        "CASE WHEN {mode} = {monthly} THEN {start} ELSE {anchor} END AS period_start, "
        "CASE WHEN {mode} = {monthly} THEN {end} ELSE {anchor} END AS period_end"
    ).format(
        mode=mode,
        monthly=MONTHLY,
        anchor=anchor,
        start=month_start(vendor, anchor),
        end=month_end(vendor, anchor),
    )


def open_settlement_join(
    side: Side, *, alias: str, entry: str, condition: Composable
) -> Composable:
    """Left-join the open settlement ``alias`` of ``side`` that the entry row ``entry`` goes in.

    The entry row has the beneficiary's key, brand_id, mode and period_start;
    ``condition`` says when the row is the side's at all.
    """
    return SQL("""
    LEFT JOIN {settlement} {s}
        ON {condition} AND {s}.beneficiary = {beneficiary} AND {s}.status = {open}
       AND {s}.{key} = {entry}.{key} AND {s}.brand_id = {entry}.brand_id
       AND {s}.mode = {entry}.mode AND {s}.period_start = {entry}.period_start
       AND {s}.source_ref = ''
    """).format(
        settlement=T["settlement"],
        s=SQL(alias),
        condition=condition,
        beneficiary=side.literal,
        open=OPEN,
        key=SQL(side.key),
        entry=SQL(entry),
    )


def open_settlement_joins(entry: str) -> Composable:
    """Join both sides' open settlements to entry rows ``entry``.

    ``COALESCE(sg.id, ss.id)`` is then the id of the entry's open settlement.
    """
    return SQL("").join(
        open_settlement_join(
            side,
            alias=f"s{side.name[0]}",
            entry=entry,
            condition=SQL("{}.beneficiary = {}").format(SQL(entry), side.literal),
        )
        for side in SIDES
    )


def insert_open_settlements(source: Composable) -> Composable:
    """Open the settlements that keyed rows ``source`` are due in; existing ones are kept.

    ``source`` selects beneficiary, guide_id, store_id, brand_id, mode,
    period_start and period_end.
    """
    arms = [
        SQL("""
        SELECT {beneficiary}, {guide_id}, {store_id}, d.brand_id, d.mode, d.period_start,
               d.period_end, '', 0, 0, 0, {open}, '', '', %(now)s
        FROM due d {guide_join}
        WHERE d.beneficiary = {beneficiary}
        GROUP BY {group}, d.brand_id, d.mode, d.period_start, d.period_end
        """).format(
            beneficiary=side.literal,
            guide_id=side.guide_id("d"),
            store_id=side.store_id("d"),
            open=OPEN,
            guide_join=side.guide_join("d"),
            group=side.group("d"),
        )
        for side in (STORE, GUIDE)
    ]
    return SQL("""
INSERT INTO {settlement} ({columns})
WITH due AS ({source})
{arms}
ON CONFLICT DO NOTHING
""").format(
        settlement=T["settlement"],
        columns=SETTLEMENT_COLUMNS,
        source=source,
        arms=SQL(" UNION ALL ").join(arms),
    )


def _sql(expr: str | Composable) -> Composable:
    return SQL(expr) if isinstance(expr, str) else expr

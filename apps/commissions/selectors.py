"""Reads of the commissions app: scoped ledger lists, entry status, and the ledger check."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.commissions.ledger_checks import ledger_checks_run
from apps.commissions.models import CommissionAdjustment, CommissionEntry, Order, Settlement
from apps.commissions.sql.checks import LedgerScope, ledger_checks, ledger_counts
from apps.core.money import ZERO, from_cents, money_from_db
from apps.core.scoping import Scope, scope_queryset
from apps.core.sql import SQL, Literal, render

__all__ = ["LedgerScope"]


class EntryStatus(TextChoices):
    """Where an entry stands in settlement, as reports and lists filter it."""

    UNSETTLED = "unsettled", _("Not yet settled")
    SETTLED = "settled", _("Settled")
    PAID = "paid", _("Paid")


def unsettled_q() -> Q:
    """Match entries not yet settled: T+0 in flight, or in a settlement still open."""
    return Q(settlement__isnull=True) | Q(settlement__status=Settlement.Status.OPEN)


def entries_with_status(entries: QuerySet, status: str) -> QuerySet:
    """Narrow ``entries`` to one ``EntryStatus``."""
    if status == EntryStatus.UNSETTLED:
        return entries.filter(unsettled_q())
    return entries.filter(settlement__status=status)


# The dashboards' chart of commission per day covers this many days.
CHART_DAYS = 30


@dataclass(frozen=True)
class CommissionSplit:
    """Commission earned in a period, split by whether a settlement holds it yet."""

    settled: Decimal = ZERO
    unsettled: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.settled + self.unsettled


@dataclass(frozen=True)
class CommissionSummary:
    today: CommissionSplit
    month: CommissionSplit
    daily: list[tuple[dt.date, Decimal]]


def commission_summary(*, scope: Scope, today: dt.date) -> CommissionSummary:
    """Return today's and this month's commission of ``scope`` and the last days' totals.

    Settled = entries a closed settlement holds, unsettled = the rest;
    ``today`` is ``business_date == today``, ``month`` runs from the first of
    ``today``'s month, ``daily`` sums ``amount`` per business date over the
    ``CHART_DAYS`` days ending today (missing days as zero). Every figure is a
    sum of entries, never recomputed from rates: two queries in all.
    """
    days = [today - dt.timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
    entries = scope_queryset(CommissionEntry.objects.order_by(), scope)
    is_today = Q(business_date=today)
    is_settled = ~unsettled_q()
    figures = entries.filter(business_date__gte=today.replace(day=1), business_date__lte=today)
    figures = figures.aggregate(
        today_settled=Sum("amount", filter=is_today & is_settled),
        today_unsettled=Sum("amount", filter=is_today & ~is_settled),
        month_settled=Sum("amount", filter=is_settled),
        month_unsettled=Sum("amount", filter=~is_settled),
    )
    figures = {name: money_from_db(value) for name, value in figures.items()}
    per_day = dict(
        entries.filter(business_date__gte=days[0], business_date__lte=today)
        .values("business_date")
        .annotate(total=Sum("amount"))
        .values_list("business_date", "total")
    )
    return CommissionSummary(
        today=CommissionSplit(figures["today_settled"], figures["today_unsettled"]),
        month=CommissionSplit(figures["month_settled"], figures["month_unsettled"]),
        daily=[(day, money_from_db(per_day.get(day))) for day in days],
    )


def commission_entry_list(*, scope: Scope) -> QuerySet[CommissionEntry]:
    return scope_queryset(
        CommissionEntry.objects.select_related(
            "order", "refund", "guide", "store", "brand", "settlement", "adjustment__order"
        ),
        scope,
    )


def commission_adjustment_list() -> QuerySet[CommissionAdjustment]:
    return CommissionAdjustment.objects.select_related(
        "brand", "guide", "store", "order", "actor"
    ).prefetch_related("entries")


def settlement_list(*, scope: Scope) -> QuerySet[Settlement]:
    """Return the settlements ``scope`` may read, each with ``held_count`` and ``running_total``.

    A closed settlement's ``entry_count`` and ``entries_total`` are written when
    it closes, so they are read as stored; only an open settlement's are summed
    from its entries, so far (``Case``: the subqueries run for open rows only).
    """
    entries = (
        CommissionEntry.objects.filter(settlement=OuterRef("pk")).order_by().values("settlement")
    )
    is_open = Q(status=Settlement.Status.OPEN)
    return scope_queryset(
        Settlement.objects.select_related("guide", "store", "brand").annotate(
            held_count=Case(
                When(
                    is_open, then=Coalesce(Subquery(entries.annotate(n=Count("pk")).values("n")), 0)
                ),
                default=F("entry_count"),
                output_field=IntegerField(),
            ),
            running_total=Case(
                When(
                    is_open,
                    then=Coalesce(Subquery(entries.annotate(s=Sum("amount")).values("s")), ZERO),
                ),
                default=F("entries_total"),
                output_field=Settlement._meta.get_field("entries_total"),
            ),
        ),
        scope,
    )


def order_list(*, scope: Scope) -> QuerySet[Order]:
    """Return the orders ``scope`` may read: a store's, or those crediting a guide."""
    return scope_queryset(
        Order.objects.select_related("brand", "store", "guide", "attributed_guide"),
        scope,
        store_field="store",
        guide_field="attributed_guide",
    )


def order_detail_list(*, scope: Scope) -> QuerySet[Order]:
    """Return ``order_list`` with each order's lines, refunds and the entries ``scope`` may read."""
    return order_list(scope=scope).prefetch_related(
        "lines",
        "refunds",
        Prefetch(
            "entries",
            queryset=commission_entry_list(scope=scope).order_by("pk"),
            to_attr="scoped_entries",
        ),
    )


# The ledger check -------------------------------------------------------------------------

EXAMPLES_PER_CHECK = 10
# A refund's clawback entries are written by a task queued when the refund is
# accepted; refunds younger than this may legitimately have none yet.
DEFAULT_GRACE = dt.timedelta(minutes=10)
# Business dates outside this window are reported: before 2000-01-01 is a
# typo (0026 for 2026) or a default an integration sent for a missing value
# (1970-01-01, 0001-01-01); after tomorrow is a day that has begun nowhere
# yet (a POS clock running fast, or a time zone ahead of ours, reaches
# tomorrow at most). The ledger still reads such rows; they are someone's
# mistake to correct.
BUSINESS_DATE_EARLIEST = dt.date(2000, 1, 1)
BUSINESS_DATE_DAYS_AHEAD = 1


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


def ledger_verify(
    *,
    scope: LedgerScope | None = None,
    examples: int = EXAMPLES_PER_CHECK,
    grace: dt.timedelta = DEFAULT_GRACE,
) -> LedgerReport:
    """Check every ledger invariant in ``scope``; return the counts and the breaches found.

    Each check is one statement selecting the rows that breach it
    (``apps.commissions.sql.checks``); every breach is counted, the first
    ``examples`` are fetched.
    """
    scope = scope or LedgerScope()
    vendor = connection.vendor
    latest = timezone.localdate() + dt.timedelta(days=BUSINESS_DATE_DAYS_AHEAD)
    params = {
        **scope.params(),
        "grace_cutoff": connection.ops.adapt_datetimefield_value(timezone.now() - grace),
        "dates_from": connection.ops.adapt_datefield_value(BUSINESS_DATE_EARLIEST),
        "dates_to": connection.ops.adapt_datefield_value(latest),
    }
    breaches = []
    with connection.cursor() as cursor:
        for check in ledger_checks(vendor, scope.shape):
            cursor.execute(_first_breaches(vendor, check.sql, examples), params)
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
        cursor.execute(ledger_counts(vendor, scope.shape), params)
        orders, entries, settlements = cursor.fetchone()
    breaches.extend(ledger_checks_run(brand_id=scope.brand_id, examples=examples))
    return LedgerReport(orders=orders, entries=entries, settlements=settlements, breaches=breaches)


def _first_breaches(vendor: str, check_sql: str, examples: int) -> str:
    # The window count is taken before LIMIT: every breach is counted. On
    # PostgreSQL the check is planned on its own (OFFSET 0 keeps the LIMIT
    # out of it): seeing the LIMIT, the planner chose nested loops to find the
    # first breaches fast, and a clean ledger of 80,000 entries took minutes.
    fence = SQL("OFFSET 0" if vendor == "postgresql" else "")
    return render(
        SQL(
            "SELECT breach.*, COUNT(*) OVER () AS breach_count "
            "FROM (SELECT * FROM ({}) checked {}) breach ORDER BY 1 LIMIT {}"
        ).format(SQL(check_sql), fence, Literal(int(examples)))
    )


def _readable(row: dict) -> dict:
    """Show ``*_cents`` columns as money and ``*_bp`` columns as percentages."""
    shown = {}
    for name, value in row.items():
        if name.endswith("_cents") and value is not None:
            shown[name.removesuffix("_cents")] = from_cents(int(value))
        elif name.endswith("_bp") and value is not None:
            shown[name.removesuffix("_bp")] = f"{(Decimal(int(value)) / 100):.2f}%"
        else:
            shown[name] = value
    return shown


@dataclass(frozen=True)
class CommissionShare:
    """One beneficiary's commission over a period: the store's, or one guide's."""

    beneficiary: str
    guide_id: int | None
    name: str
    amount: Decimal


def commission_shares(*, scope: Scope, first_day: dt.date, today: dt.date) -> list[CommissionShare]:
    """Return the commission of ``scope`` from ``first_day`` to ``today`` per beneficiary.

    For a store manager: the store's share first, then each guide's (the
    manager's own line among them). Sums of entries, one query.
    """
    rows = (
        scope_queryset(CommissionEntry.objects.order_by(), scope)
        .filter(business_date__gte=first_day, business_date__lte=today)
        .values("beneficiary", "guide_id", "guide__name", "store__name")
        .annotate(total=Sum("amount"))
        .order_by("-beneficiary", "guide__name", "store__name")
    )
    return [
        CommissionShare(
            beneficiary=row["beneficiary"],
            guide_id=row["guide_id"],
            name=row["guide__name"] or row["store__name"],
            amount=money_from_db(row["total"]),
        )
        for row in rows
    ]

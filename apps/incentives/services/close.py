"""The month close: bonuses and points from a month's net sales, once per beneficiary.

``bonus_month_close`` works on one brand and month. The first run after the
brand's hold days writes revision 0 of every bonus (one ``BonusAward`` per
target with a plan, its inputs frozen) and books each non-zero bonus as one
commission entry of kind ``bonus``, settled by the beneficiary's terms, and
the month's points. Later runs of the same month recompute the net sales
(refunds after the close lower them) against the frozen inputs and write a
new revision with the difference, booked in the next open period: nothing
written before is edited.

Every run of a brand's month locks its ``BonusMonthClose`` row first, so
concurrent or repeated runs queue up and the later ones find nothing to do;
the unique keys of awards, entries and point movements back it.
"""

import calendar
import datetime as dt
import json
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from apps.commissions.models import Beneficiary
from apps.commissions.services import settlement_settle_bonus_entries
from apps.core.db import ANALYZE_AFTER_ROWS, rows_insert, tables_analyze
from apps.core.money import ZERO, from_cents
from apps.core.sql import list_param
from apps.customers.models import Membership
from apps.engagement.models import FollowUpTask
from apps.incentives import sql as incentive_sql
from apps.incentives.brackets import bonus_compute, brackets_parse, month_add
from apps.incentives.models import (
    BonusAward,
    BonusMonthClose,
    IncentivePolicy,
    PointsAccount,
    PointsMovement,
    SalesTarget,
)
from apps.incentives.selectors import bonus_plan_choose, bonus_plans_valid

logger = logging.getLogger(__name__)

# Closed months the daily run re-checks for refunds: a refund is accepted
# for months after its order, so three months catch nearly all of them.
RECHECK_MONTHS = 3


@dataclass(frozen=True)
class CloseResult:
    brand_id: int
    month: dt.date
    closed_now: bool
    awards: int
    entries: int
    total: Decimal
    point_movements: int


def month_last_day(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def close_date_of(*, month: dt.date, hold_days: int) -> dt.date:
    """The first day a month may close: its last day plus the hold for returns, plus one."""
    return month_last_day(month) + dt.timedelta(days=hold_days + 1)


def net_sales_by_beneficiary(*, brand_id: int, month: dt.date) -> dict[tuple[str, int], Decimal]:
    """Return ``{(beneficiary, guide or store id): net sales}`` of the brand's month.

    Net sales are the bases of the sales the ledger credited the beneficiary
    (the attribution rules decided whose they are) dated in the month, minus
    the clawed-back bases of refunds of those sales, whenever refunded.
    """
    params = {"brand_id": brand_id, "start": month, "end": month_last_day(month)}
    with connection.cursor() as cursor:
        cursor.execute(incentive_sql.net_sales(connection.vendor), params)
        return {(side, who): from_cents(int(c)) for side, who, c in cursor.fetchall()}


def _close_lock(*, brand_id: int, month: dt.date) -> BonusMonthClose:
    BonusMonthClose.objects.bulk_create(
        [BonusMonthClose(brand_id=brand_id, month=month)], ignore_conflicts=True
    )
    return BonusMonthClose.objects.select_for_update().get(brand_id=brand_id, month=month)


def bonus_month_close(
    *, brand_id: int, month: dt.date, run_date: dt.date | None = None
) -> CloseResult:
    """Close the brand's month, or write the bonus changes refunds made since; see the module."""
    run_date = run_date or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        close = _close_lock(brand_id=brand_id, month=month)
        sales = net_sales_by_beneficiary(brand_id=brand_id, month=month)
        if close.closed_at is None:
            awards = _first_awards(brand_id=brand_id, month=month, sales=sales)
        else:
            awards = _revised_awards(brand_id=brand_id, month=month, sales=sales)
        _awards_insert(awards, brand_id=brand_id, month=month, now=now)
        if len(awards) >= ANALYZE_AFTER_ROWS:
            tables_analyze(BonusAward)
        entries = _book(brand_id=brand_id, month=month, now=now, run_date=run_date)
        movements = _points(
            brand_id=brand_id, month=month, sales=sales, now=now, first=close.closed_at is None
        )
        closed_now = close.closed_at is None
        if closed_now:
            close.closed_at = now
        close.last_checked_at = now
        close.save(update_fields=["closed_at", "last_checked_at"])
    total = sum((a.amount for a in awards), ZERO)
    logger.info(
        "bonus close %s %s: %s awards, %s entries, %s", brand_id, month, len(awards), entries, total
    )
    return CloseResult(
        brand_id=brand_id, month=month, closed_now=closed_now, awards=len(awards),
        entries=entries, total=total, point_movements=movements,
    )  # fmt: skip


def _targets_of(*, brand_id: int, month: dt.date):
    return SalesTarget.objects.filter(brand_id=brand_id, month=month).values_list(
        "pk", "beneficiary", "guide_id", "store_id", "store__kind", "amount"
    )


@dataclass(frozen=True)
class AwardRow:
    """One bonus award to write, before it has an id."""

    revision: int
    beneficiary: str
    guide_id: int | None
    store_id: int
    target_id: int
    plan_id: int
    net_sales: Decimal
    target_amount: Decimal
    basis: str
    brackets: list
    cap: Decimal | None
    brackets_reached: int
    bonus: Decimal
    amount: Decimal


AWARD_COLUMNS = (
    "brand_id", "month", "revision", "beneficiary", "guide_id", "store_id", "target_id",
    "plan_id", "net_sales", "target_amount", "basis", "brackets", "cap", "brackets_reached",
    "bonus", "amount", "created_at",
)  # fmt: skip


def _awards_insert(awards: list[AwardRow], *, brand_id, month, now) -> None:
    """Write the awards in one COPY (PostgreSQL) or a few batches: thousands at a close."""
    month_value = connection.ops.adapt_datefield_value(month)
    created_at = connection.ops.adapt_datetimefield_value(now)
    rows_insert(
        BonusAward,
        AWARD_COLUMNS,
        (
            (brand_id, month_value, a.revision, a.beneficiary, a.guide_id, a.store_id,
             a.target_id, a.plan_id, str(a.net_sales), str(a.target_amount), a.basis,
             json.dumps(a.brackets), None if a.cap is None else str(a.cap), a.brackets_reached,
             str(a.bonus), str(a.amount), created_at)
            for a in awards
        ),
    )  # fmt: skip


def _targets_of(*, brand_id: int, month: dt.date):
    return SalesTarget.objects.filter(brand_id=brand_id, month=month).values_list(
        "pk", "beneficiary", "guide_id", "store_id", "store__kind", "amount"
    )


def _first_awards(*, brand_id, month, sales) -> list[AwardRow]:
    plans = bonus_plans_valid(brand_id=brand_id, month=month)
    parsed = {plan.pk: brackets_parse(plan.brackets) for plan in plans}
    awards = []
    for target_id, side, guide_id, store_id, store_kind, target in _targets_of(
        brand_id=brand_id, month=month
    ):
        plan = bonus_plan_choose(plans, beneficiary=side, store_id=store_id, store_kind=store_kind)
        if plan is None:
            continue
        net = sales.get((side, guide_id if side == Beneficiary.GUIDE else store_id), ZERO)
        result = bonus_compute(
            net_sales=net, target=target, basis=plan.basis, brackets=parsed[plan.pk], cap=plan.cap
        )
        awards.append(
            AwardRow(
                revision=0,
                beneficiary=side,
                guide_id=guide_id,
                store_id=store_id,
                target_id=target_id,
                plan_id=plan.pk,
                net_sales=net,
                target_amount=target,
                basis=plan.basis,
                brackets=plan.brackets,
                cap=plan.cap,
                brackets_reached=result.brackets_reached,
                bonus=result.bonus,
                amount=result.bonus,
            )
        )
    return awards


LATEST_FIELDS = (
    "revision", "beneficiary", "guide_id", "store_id", "target_id", "plan_id", "net_sales",
    "target_amount", "basis", "brackets", "cap", "bonus",
)  # fmt: skip


def _latest_awards(*, brand_id: int, month: dt.date):
    """The latest revision of every beneficiary's bonus for the month, as dicts."""
    latest = {}
    for award in BonusAward.objects.filter(brand_id=brand_id, month=month).values(*LATEST_FIELDS):
        key = (award["beneficiary"], award["guide_id"], award["store_id"])
        if key not in latest or latest[key]["revision"] < award["revision"]:
            latest[key] = award
    return latest.values()


def _revised_awards(*, brand_id, month, sales) -> list[AwardRow]:
    """New revisions where the month's net sales now give another bonus, on the frozen inputs."""
    awards = []
    for last in _latest_awards(brand_id=brand_id, month=month):
        side = last["beneficiary"]
        who = last["guide_id"] if side == Beneficiary.GUIDE else last["store_id"]
        net = sales.get((side, who), ZERO)
        if net == last["net_sales"]:
            continue
        result = bonus_compute(
            net_sales=net, target=last["target_amount"], basis=last["basis"],
            brackets=brackets_parse(last["brackets"]), cap=last["cap"],
        )  # fmt: skip
        if result.bonus == last["bonus"]:
            continue
        awards.append(
            AwardRow(
                revision=last["revision"] + 1,
                beneficiary=side,
                guide_id=last["guide_id"],
                store_id=last["store_id"],
                target_id=last["target_id"],
                plan_id=last["plan_id"],
                net_sales=net,
                target_amount=last["target_amount"],
                basis=last["basis"],
                brackets=last["brackets"],
                cap=last["cap"],
                brackets_reached=result.brackets_reached,
                bonus=result.bonus,
                amount=result.bonus - last["bonus"],
            )
        )
    return awards


def _book(*, brand_id, month, now, run_date) -> int:
    """Book this run's non-zero awards as bonus entries, link them, and settle them."""
    params = {
        "brand_id": brand_id,
        "month": connection.ops.adapt_datefield_value(month),
        "now": now,
        "run_date": connection.ops.adapt_datefield_value(run_date),
    }
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(incentive_sql.insert_bonus_entries(vendor), params)
        written = cursor.rowcount
        if written <= 0:
            return 0
        cursor.execute(incentive_sql.link_bonus_entries(vendor), params)
    settlement_settle_bonus_entries(
        brand_id=brand_id,
        source_ref=f"bonus:{month:%Y-%m}:{now:%Y%m%d%H%M%S}",
        business_date=run_date,
    )
    return written


# --- Points --------------------------------------------------------------------------------


def _month_span(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(month_add(month, 1), dt.time.min))
    return start, end


def _points(*, brand_id, month, sales, now, first: bool) -> int:
    """Write the month's points (at the close) or the sales points refunds took back (later)."""
    policy = IncentivePolicy.objects.filter(brand_id=brand_id).first()
    if policy is None:
        return 0
    earned: dict[tuple[int, str], int] = {}
    if policy.points_per_100_sales:
        for (side, guide_id), net in sales.items():
            if side == Beneficiary.GUIDE and net > 0:
                earned[(guide_id, PointsMovement.Kind.SALES)] = (
                    int(net // 100) * policy.points_per_100_sales
                )
    if first:
        start, end = _month_span(month)
        if policy.points_per_member:
            bound = (
                Membership.objects.filter(
                    brand_id=brand_id, guide__isnull=False, bound_at__gte=start, bound_at__lt=end
                )
                .values("guide_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for row in bound:
                earned[(row["guide_id"], PointsMovement.Kind.MEMBERS)] = (
                    row["n"] * policy.points_per_member
                )
        if policy.points_per_follow_up:
            done = (
                FollowUpTask.objects.filter(
                    membership__brand_id=brand_id,
                    status=FollowUpTask.Status.DONE,
                    due_date__gte=month,
                    due_date__lte=month_last_day(month),
                    closed_by_guide__isnull=False,
                    closed_at__lt=timezone.make_aware(
                        dt.datetime.combine(month_last_day(month), dt.time.max)
                    ),
                )
                .values("closed_by_guide_id", "due_date", "closed_at")
                .order_by()
            )
            for row in done:
                if timezone.localtime(row["closed_at"]).date() <= row["due_date"]:
                    key = (row["closed_by_guide_id"], PointsMovement.Kind.FOLLOW_UPS)
                    earned[key] = earned.get(key, 0) + policy.points_per_follow_up
    return _points_write(brand_id=brand_id, month=month, earned=earned, now=now, first=first)


def _points_write(*, brand_id, month, earned, now, first: bool) -> int:
    tag = f"{month:%Y-%m}"
    if first:
        changes = {key: points for key, points in earned.items() if points > 0}
        revision = 0
    else:
        # What each guide's sales points were, all revisions together.
        before = {}
        for account_guide, points in PointsMovement.objects.filter(
            account__brand_id=brand_id, month=month, kind=PointsMovement.Kind.SALES
        ).values_list("account__guide_id", "points"):
            before[account_guide] = before.get(account_guide, 0) + points
        guides = set(before) | {g for (g, kind) in earned if kind == PointsMovement.Kind.SALES}
        changes = {}
        for guide_id in guides:
            delta = earned.get((guide_id, PointsMovement.Kind.SALES), 0) - before.get(guide_id, 0)
            if delta:
                changes[(guide_id, PointsMovement.Kind.SALES)] = delta
        revision = (
            PointsMovement.objects.filter(account__brand_id=brand_id, month=month).count() + 1
        )
    if not changes:
        return 0
    guide_ids = sorted({guide_id for guide_id, _kind in changes})
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(
            incentive_sql.accounts_open(vendor),
            {"brand_id": brand_id, "guide_ids": list_param(guide_ids, vendor)},
        )
    # Locked in pk order, as every writer of balances locks them.
    balances = {
        guide_id: (pk, balance)
        for pk, guide_id, balance in PointsAccount.objects.select_for_update()
        .filter(brand_id=brand_id, guide_id__in=guide_ids)
        .order_by("pk")
        .values_list("pk", "guide_id", "balance")
    }
    created_at = connection.ops.adapt_datetimefield_value(now)
    month_value = connection.ops.adapt_datefield_value(month)
    movements = []
    for (guide_id, kind), points in sorted(changes.items()):
        account_id, balance = balances[guide_id]
        reason = f"{tag} {PointsMovement.Kind(kind).label}"
        if points < 0 and balance + points < 0:
            # A refund cannot take back points already redeemed: take what is left.
            points = -balance
            reason = f"{reason} (refund; capped at the balance)"
            if points == 0:
                continue
        balances[guide_id] = (account_id, balance + points)
        movements.append(
            (account_id, kind, points, month_value, "", reason,
             f"close:{brand_id}:{tag}:{kind}:{guide_id}:r{revision}", None, created_at)
        )  # fmt: skip
    rows_insert(
        PointsMovement,
        ("account_id", "kind", "points", "month", "reward", "reason", "reference", "actor_id",
         "created_at"),
        movements,
    )  # fmt: skip
    if len(movements) >= ANALYZE_AFTER_ROWS:
        tables_analyze(PointsAccount, PointsMovement)
    with connection.cursor() as cursor:
        cursor.execute(incentive_sql.balances_add_run(vendor), {"now": created_at})
    return len(movements)


# --- The scheduled run --------------------------------------------------------------------


def bonus_months_due(*, run_date: dt.date) -> list[tuple[int, dt.date]]:
    """Return the (brand, month) pairs to run: months past their hold, and closed ones to re-check.

    A month is due when its hold after the month's end is over and it has
    targets; closed months of the last ``RECHECK_MONTHS`` are re-checked for
    refunds.
    """
    holds = dict(IncentivePolicy.objects.values_list("brand_id", "close_hold_days"))
    this_month = run_date.replace(day=1)
    due = []
    months = (
        SalesTarget.objects.filter(month__lt=this_month)
        .values_list("brand_id", "month")
        .distinct()
        .order_by("brand_id", "month")
    )
    closed = dict(
        ((brand_id, month), closed_at)
        for brand_id, month, closed_at in BonusMonthClose.objects.values_list(
            "brand_id", "month", "closed_at"
        )
    )
    oldest_recheck = month_add(this_month, -RECHECK_MONTHS - 1)
    for brand_id, month in months:
        hold = holds.get(brand_id, IncentivePolicy._meta.get_field("close_hold_days").default)
        if close_date_of(month=month, hold_days=hold) > run_date:
            continue
        if closed.get((brand_id, month)) is None or month >= oldest_recheck:
            due.append((brand_id, month))
    return due


def bonus_close_run(*, run_date: dt.date | None = None) -> list[CloseResult]:
    """Close every month due and re-check recently closed ones (the daily beat job)."""
    run_date = run_date or timezone.localdate()
    return [
        bonus_month_close(brand_id=brand_id, month=month, run_date=run_date)
        for brand_id, month in bonus_months_due(run_date=run_date)
    ]

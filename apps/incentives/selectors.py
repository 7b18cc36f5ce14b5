"""Reads of the incentives app: targets with live progress, plans, and points with ranks."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import Rank

from apps.commissions.models import Beneficiary, CommissionEntry
from apps.core.money import ZERO, money_from_db
from apps.core.scoping import Scope, scope_queryset
from apps.incentives.brackets import BonusResult, bonus_compute, brackets_parse
from apps.incentives.models import (
    BonusAward,
    BonusPlan,
    PointsAccount,
    PointsMovement,
    SalesTarget,
)
from apps.stores.models import Brand, Region, Store


def month_last_day(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def sales_target_list(*, scope: Scope) -> QuerySet[SalesTarget]:
    return scope_queryset(
        SalesTarget.objects.select_related("brand", "store", "guide"), scope
    ).order_by("-month", "brand__code", "store__code", "guide__employee_no")


def bonus_plan_list(*, scope: Scope) -> QuerySet[BonusPlan]:
    """Plans of the brands the scope's stores carry (every plan for HQ)."""
    plans = BonusPlan.objects.select_related("brand", "store")
    if scope.everything:
        return plans
    brands = Brand.objects.filter(stores__in=_store_ids(scope)).values("pk")
    return plans.filter(brand__in=brands).distinct()


def _store_ids(scope: Scope):
    if scope.region_ids or scope.store_ids:
        # A subquery over the scope's regions: never a list of every store id.
        return scope_queryset(Store.objects.all(), scope, store_field="pk").values("pk")
    if scope.guide_id is not None:
        from apps.guides.models import Guide

        return list(Guide.objects.filter(pk=scope.guide_id).values_list("store_id", flat=True))
    return []


def _ranked(accounts: QuerySet[PointsAccount]) -> QuerySet[PointsAccount]:
    """Annotate ``store_rank``: 1 for the highest balance among the store's guides, per brand."""
    return accounts.select_related("guide", "guide__store", "brand").annotate(
        store_rank=Window(
            Rank(), partition_by=[F("brand_id"), F("guide__store_id")], order_by=F("balance").desc()
        ),
        store_accounts=Window(Count("pk"), partition_by=[F("brand_id"), F("guide__store_id")]),
    )


def points_account_list(*, scope: Scope) -> QuerySet[PointsAccount]:
    """Accounts in the scope, each with its rank among its store's guides for the brand."""
    ranked = _ranked(PointsAccount.objects.all())
    # The rank is over the whole store, whoever reads: filter after ranking.
    visible = scope_queryset(PointsAccount.objects.all(), scope, store_field="guide__store")
    return ranked.filter(pk__in=visible.values("pk")).order_by("brand__code", "-balance", "pk")


def net_sales_of(*, targets: list[SalesTarget]) -> dict[int, Decimal]:
    """Return each target's month-to-date net sales (the close's rule), in one query per month."""
    result = {}
    by_month: dict[tuple[int, dt.date], list[SalesTarget]] = {}
    for target in targets:
        by_month.setdefault((target.brand_id, target.month), []).append(target)
    for (brand_id, month), group in by_month.items():
        last = month_last_day(month)
        guides = [t.guide_id for t in group if t.beneficiary == Beneficiary.GUIDE]
        stores = [t.store_id for t in group if t.beneficiary == Beneficiary.STORE]
        rows = (
            CommissionEntry.objects.filter(brand_id=brand_id, order__isnull=False)
            .filter(
                Q(beneficiary=Beneficiary.GUIDE, guide_id__in=guides)
                | Q(beneficiary=Beneficiary.STORE, store_id__in=stores)
            )
            .filter(
                Q(refund__isnull=True, business_date__gte=month, business_date__lte=last)
                | Q(
                    refund__isnull=False,
                    business_date__gte=month,
                    order__business_date__gte=month,
                    order__business_date__lte=last,
                )
            )
            .values("beneficiary", "guide_id", "store_id")
            .annotate(total=Sum("base_amount"))
            .order_by()
        )
        sums: dict[tuple[str, int], Decimal] = {}
        for row in rows:
            who = row["guide_id"] if row["beneficiary"] == Beneficiary.GUIDE else row["store_id"]
            key = (row["beneficiary"], who)
            sums[key] = sums.get(key, ZERO) + money_from_db(row["total"])
        for target in group:
            who = target.guide_id if target.beneficiary == Beneficiary.GUIDE else target.store_id
            result[target.pk] = sums.get((target.beneficiary, who), ZERO)
    return result


def bonus_plans_valid(*, brand_id: int, month: dt.date) -> list[BonusPlan]:
    """The brand's plans valid in ``month``, most specific (then most recent) first."""
    plans = BonusPlan.objects.filter(brand_id=brand_id, valid_from__lte=month).exclude(
        valid_to__lt=month
    )
    return sorted(plans, key=lambda p: (-p.specificity, -p.valid_from.toordinal()))


def bonus_plan_choose(
    plans: list[BonusPlan], *, beneficiary: str, store_id: int, store_kind: str
) -> BonusPlan | None:
    """The first of ``plans`` (most specific first) that applies to the beneficiary's store."""
    for plan in plans:
        if plan.beneficiary != beneficiary:
            continue
        if plan.store_id is not None and plan.store_id != store_id:
            continue
        if plan.store_kind and plan.store_kind != store_kind:
            continue
        return plan
    return None


@dataclass(frozen=True)
class TargetProgress:
    target: SalesTarget
    net_sales: Decimal
    achievement: Decimal | None  # percent
    plan: BonusPlan | None
    projected: BonusResult | None  # the bonus if the month ended with these sales
    awarded: Decimal | None  # the bonus written by the close (latest revision), if closed


def target_progress(*, targets: list[SalesTarget]) -> list[TargetProgress]:
    """Progress of each target: net sales so far, achievement, bracket and projected bonus."""
    sales = net_sales_of(targets=targets)
    awarded = {}
    for award in BonusAward.objects.filter(target__in=targets).order_by("revision"):
        awarded[award.target_id] = award.bonus
    plans: dict[tuple[int, dt.date], list[BonusPlan]] = {}
    progress = []
    for target in targets:
        net = sales.get(target.pk, ZERO)
        key = (target.brand_id, target.month)
        if key not in plans:  # one query per brand and month, not per target
            plans[key] = bonus_plans_valid(brand_id=target.brand_id, month=target.month)
        plan = bonus_plan_choose(
            plans[key], beneficiary=target.beneficiary, store_id=target.store_id,
            store_kind=target.store.kind,
        )  # fmt: skip
        projected = None
        if plan is not None:
            projected = bonus_compute(
                net_sales=net, target=target.amount, basis=plan.basis,
                brackets=brackets_parse(plan.brackets), cap=plan.cap,
            )  # fmt: skip
        achievement = (net * 100 / target.amount).quantize(Decimal("0.01"))
        progress.append(
            TargetProgress(
                target=target,
                net_sales=net,
                achievement=achievement,
                plan=plan,
                projected=projected,
                awarded=awarded.get(target.pk),
            )
        )
    return progress


def bar_width(achievement: Decimal | None) -> int:
    """The width of a progress bar in percent: the achievement, full at 100 %."""
    if achievement is None or achievement <= 0:
        return 0
    return int(min(achievement, Decimal(100)))


def guide_target_progress(*, scope: Scope, month: dt.date) -> list[TargetProgress]:
    """Progress of the guides' targets for ``month`` that ``scope`` sees, by brand then guide."""
    targets = scope_queryset(
        SalesTarget.objects.filter(month=month, beneficiary=Beneficiary.GUIDE).select_related(
            "brand", "store", "guide"
        ),
        scope,
    ).order_by("brand__code", "guide__employee_no")
    return target_progress(targets=list(targets))


def guide_points(*, guide_id: int, store_id: int) -> list[PointsAccount]:
    """The guide's points accounts, each with ``store_rank`` among the store's guides."""
    accounts = _ranked(PointsAccount.objects.filter(guide__store_id=store_id)).order_by(
        "brand__code"
    )
    return [account for account in accounts if account.guide_id == guide_id]


# Points a guide earns (what the leaderboard and the report count); redemptions
# and expiries spend them.
EARNING_KINDS = [
    PointsMovement.Kind.SALES,
    PointsMovement.Kind.MEMBERS,
    PointsMovement.Kind.FOLLOW_UPS,
]


# Leaderboard grouping -> the path to the group from a target, and from a movement.
_TARGET_GROUP = {"store": "store_id", "region": "store__region_id", "brand": "brand_id"}
_POINTS_GROUP = {
    "store": "account__guide__store_id",
    "region": "account__guide__store__region_id",
    "brand": "account__brand_id",
}
_GROUP_MODEL = {"store": Store, "region": Region, "brand": Brand}


@dataclass
class LeaderboardRow:
    rank: int
    key: str
    label: str
    guides: int
    target: Decimal
    net_sales: Decimal
    achievement: Decimal | None  # percent of the summed targets
    bonus: Decimal  # written by the close, or projected while the month is open
    points: int  # earned in the month


def incentive_leaderboard(
    *, scope: Scope, month: dt.date, group_by: str, brand_id: int | None = None
) -> list[LeaderboardRow]:
    """Rank stores, regions or brands by their guides' achievement of ``month``'s targets.

    A group's achievement is its guides' net sales over their summed targets;
    its bonus is what the close wrote for those guides (the latest revision),
    or, before the close, the bonus their sales would pay now; its points are
    those its guides earned for the month. Ties go to the higher net sales.
    Only what ``scope`` sees counts.
    """
    targets = scope_queryset(
        SalesTarget.objects.filter(month=month, beneficiary=Beneficiary.GUIDE).select_related(
            "store", "guide"
        ),
        scope,
    )
    movements = scope_queryset(
        PointsMovement.objects.filter(month=month, kind__in=EARNING_KINDS),
        scope,
        store_field="account__guide__store",
        guide_field="account__guide",
    )
    if brand_id is not None:
        targets = targets.filter(brand_id=brand_id)
        movements = movements.filter(account__brand_id=brand_id)
    field = _TARGET_GROUP[group_by]
    groups: dict[int | None, LeaderboardRow] = {}

    def row_of(group) -> LeaderboardRow:
        if group not in groups:
            groups[group] = LeaderboardRow(0, "", "", 0, ZERO, ZERO, None, ZERO, 0)
        return groups[group]

    rows = list(targets.annotate(group=F(field)))
    for progress in target_progress(targets=rows):
        row = row_of(progress.target.group)
        row.guides += 1
        row.target += progress.target.amount
        row.net_sales += progress.net_sales
        if progress.awarded is not None:
            row.bonus += progress.awarded
        elif progress.projected is not None:
            row.bonus += progress.projected.bonus
    points = movements.values(group=F(_POINTS_GROUP[group_by])).annotate(total=Sum("points"))
    for line in points.order_by():
        row_of(line["group"]).points += line["total"]
    model = _GROUP_MODEL[group_by]
    labels = dict(
        (pk, (code, name))
        for pk, code, name in model.objects.filter(pk__in=[g for g in groups if g]).values_list(
            "pk", "code", "name"
        )
    )
    for group, row in groups.items():
        row.key, row.label = labels.get(group, ("", ""))
        if row.target > 0:
            row.achievement = (row.net_sales * 100 / row.target).quantize(Decimal("0.01"))
    ordered = sorted(
        groups.values(),
        key=lambda r: (r.achievement is None, -(r.achievement or 0), -r.net_sales, r.key),
    )
    for rank, row in enumerate(ordered, start=1):
        row.rank = rank
    return ordered


def points_earned_by_group(
    *, scope: Scope, group_field: str, months: tuple[dt.date | None, dt.date | None], **filters
) -> dict:
    """Points guides earned, summed per ``group_field`` (a path from a movement).

    ``months`` bounds the months the points were earned for (first days,
    inclusive, None for open); ``filters`` narrow the movements further.
    """
    movements = scope_queryset(
        PointsMovement.objects.filter(kind__in=EARNING_KINDS, **filters),
        scope,
        store_field="account__guide__store",
        guide_field="account__guide",
    )
    first, last = months
    if first is not None:
        movements = movements.filter(month__gte=first)
    if last is not None:
        movements = movements.filter(month__lte=last)
    rows = movements.values(group=F(group_field)).annotate(total=Sum("points")).order_by()
    return {row["group"]: row["total"] for row in rows}

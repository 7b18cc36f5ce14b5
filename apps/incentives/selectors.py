"""Reads of the incentives app: targets with live progress, plans, and points with ranks."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum, Window
from django.db.models.functions import Rank

from apps.commissions.models import Beneficiary, CommissionEntry
from apps.core.money import ZERO, money_from_db
from apps.core.scoping import Scope, scope_queryset
from apps.incentives.brackets import BonusResult, bonus_compute, brackets_parse
from apps.incentives.models import BonusAward, BonusPlan, PointsAccount, SalesTarget
from apps.stores.models import Brand, Store


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


def points_account_list(*, scope: Scope) -> QuerySet[PointsAccount]:
    """Accounts in the scope, each with its rank among its store's guides for the brand."""
    ranked = PointsAccount.objects.select_related("guide", "guide__store", "brand").annotate(
        store_rank=Window(
            Rank(), partition_by=[F("brand_id"), F("guide__store_id")], order_by=F("balance").desc()
        )
    )
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


def bonus_plan_for(target: SalesTarget) -> BonusPlan | None:
    """The plan the close would apply to ``target``: the most specific valid in its month."""
    plans = (
        BonusPlan.objects.filter(
            brand_id=target.brand_id, beneficiary=target.beneficiary, valid_from__lte=target.month
        )
        .exclude(valid_to__lt=target.month)
        .filter(Q(store__isnull=True) | Q(store_id=target.store_id))
        .filter(Q(store_kind="") | Q(store_kind=target.store.kind))
        .order_by("-specificity", "-valid_from")
    )
    return plans.first()


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
    progress = []
    for target in targets:
        net = sales.get(target.pk, ZERO)
        plan = bonus_plan_for(target)
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

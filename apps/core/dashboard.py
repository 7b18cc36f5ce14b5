"""The admin start page of guides and store managers: their members and commission.

``dashboard_callback`` is unfold's ``DASHBOARD_CALLBACK``; everything it shows
comes from ``guide_dashboard_context``, whose commission part reads through
``commission_summary`` so the commission ledger plugs in at one place.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.core.roles import Role, user_has_role
from apps.core.scoping import Scope, scope_for_request, scope_queryset
from apps.customers.models import Membership

NEW_MEMBERS_SHOWN = 10
CHART_DAYS = 30
ZERO = Decimal("0.00")


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
    available: bool


def week_start(today: dt.date) -> dt.datetime:
    """Return local midnight of the Monday of ``today``'s week, as an aware datetime."""
    monday = today - dt.timedelta(days=today.weekday())
    return timezone.make_aware(dt.datetime.combine(monday, dt.time.min))


def commission_summary(*, scope: Scope, today: dt.date) -> CommissionSummary:
    """Return today's and this month's commission of ``scope`` and the last 30 days' totals.

    Reads ``CommissionEntry`` rows narrowed by ``scope_queryset`` (a guide's
    own entries, a store manager's store's): settled = entries a settlement
    holds, unsettled = the rest; ``today`` is ``business_date == today``,
    ``month`` runs from the first of ``today``'s month, ``daily`` sums
    ``amount`` per business date over the ``CHART_DAYS`` days ending today
    (missing days as zero). Every figure is a sum of entries in the database,
    never recomputed from rates: two queries in all.
    """
    days = [today - dt.timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
    if not apps.is_installed("apps.commissions"):
        return CommissionSummary(
            today=CommissionSplit(),
            month=CommissionSplit(),
            daily=[(day, ZERO) for day in days],
            available=False,
        )
    from apps.commissions.models import CommissionEntry
    from apps.commissions.selectors import unsettled_q

    entries = scope_queryset(CommissionEntry.objects.order_by(), scope)
    month_start = today.replace(day=1)
    is_today = Q(business_date=today)
    is_settled = ~unsettled_q()
    figures = entries.filter(business_date__gte=month_start, business_date__lte=today).aggregate(
        today_settled=Sum("amount", filter=is_today & is_settled),
        today_unsettled=Sum("amount", filter=is_today & ~is_settled),
        month_settled=Sum("amount", filter=is_settled),
        month_unsettled=Sum("amount", filter=~is_settled),
    )
    figures = {name: _money(value) for name, value in figures.items()}
    per_day = dict(
        entries.filter(business_date__gte=days[0], business_date__lte=today)
        .values("business_date")
        .annotate(total=Sum("amount"))
        .values_list("business_date", "total")
    )
    return CommissionSummary(
        today=CommissionSplit(figures["today_settled"], figures["today_unsettled"]),
        month=CommissionSplit(figures["month_settled"], figures["month_unsettled"]),
        daily=[(day, _money(per_day.get(day))) for day in days],
        available=True,
    )


def _money(value) -> Decimal:
    """Return a database sum as a 2-decimal Decimal (SQLite may hand back floats)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(ZERO)


def _admin_changelist_url(app_label: str, model_name: str) -> str | None:
    """Return the admin list of a model, or None while that model is not registered."""
    try:
        return reverse(f"admin:{app_label}_{model_name}_changelist")
    except NoReverseMatch:
        return None


def _chart_bars(daily: list[tuple[dt.date, Decimal]]) -> list[dict]:
    highest = max((amount for _day, amount in daily), default=ZERO)
    return [
        {
            "day": day,
            "amount": amount,
            # Percent of the tallest bar; an empty chart draws flat bars.
            "height": int(amount * 100 / highest) if highest > 0 else 0,
        }
        for day, amount in daily
    ]


def guide_dashboard_context(user, *, scope: Scope, today: dt.date | None = None) -> dict | None:
    """Return what a guide's or store manager's start page shows, or None for other roles.

    A guide sees their own members; a store manager their store's.
    """
    guide = getattr(user, "guide", None)
    if guide is None or not user_has_role(user, Role.GUIDE, Role.STORE_MANAGER):
        return None
    today = today or timezone.localdate()
    members = scope_queryset(
        Membership.objects.filter(assignment_status=Membership.Status.ASSIGNED), scope
    )
    new_this_week = members.filter(bound_at__gte=week_start(today))
    commission = commission_summary(scope=scope, today=today)
    return {
        "guide": guide,
        "for_store": not scope.is_guide_only,
        "new_members_count": new_this_week.count(),
        "new_members": list(
            new_this_week.select_related("customer", "brand").order_by("-bound_at", "-pk")[
                :NEW_MEMBERS_SHOWN
            ]
        ),
        "members_by_brand": list(
            members.order_by()
            .values("brand__code", "brand__name")
            .annotate(members=Count("pk"))
            .order_by("brand__code")
        ),
        "commission": commission,
        "chart": _chart_bars(commission.daily),
        "links": {
            "members": _admin_changelist_url("customers", "membership"),
            # Filled in once the commission admin is registered.
            "orders": _admin_changelist_url("commissions", "order"),
            "settlements": _admin_changelist_url("commissions", "settlement"),
            "statement": _admin_changelist_url("commissions", "commissionentry"),
        },
    }


def dashboard_callback(request, context: dict) -> dict:
    """Add the guide dashboard to the admin index (unfold's ``DASHBOARD_CALLBACK``)."""
    context["guide_dashboard"] = guide_dashboard_context(
        request.user, scope=scope_for_request(request)
    )
    if user_has_role(request.user, Role.HQ_OPS, Role.REGION_MANAGER):
        context["commission_report_url"] = reverse("commission-report")
    return context

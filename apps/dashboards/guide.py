"""The start page of guides and store managers: their new members and their commission."""

import datetime as dt

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from apps.commissions.selectors import commission_summary
from apps.core.dates import week_start
from apps.core.money import ZERO
from apps.core.roles import Role, user_has_role
from apps.core.scoping import Scope, scope_queryset
from apps.customers.models import Membership
from apps.engagement.selectors import follow_up_completion, follow_up_counts
from apps.incentives.selectors import bar_width, guide_points, guide_target_progress

__all__ = ["guide_dashboard_context", "week_start"]

NEW_MEMBERS_SHOWN = 10


def _chart_bars(daily) -> list[dict]:
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


def incentives_context(guide, *, scope: Scope, today: dt.date) -> dict:
    """This month's target progress (the guide's own, or each guide's of the store) and points.

    The figures are the targets API's: net sales so far, achievement, the
    brackets the sales reach and the bonus they would pay if the month ended
    today (or the bonus the close wrote); points with the rank in the store.
    """
    progress = []
    for row in guide_target_progress(scope=scope, month=today.replace(day=1)):
        projected = row.projected
        progress.append(
            {
                "brand": row.target.brand,
                "guide": row.target.guide,
                "target": row.target.amount,
                "net_sales": row.net_sales,
                "achievement": row.achievement,
                "width": bar_width(row.achievement),
                "brackets_reached": projected.brackets_reached if projected else None,
                "brackets": len(row.plan.brackets) if row.plan else 0,
                "projected_bonus": projected.bonus if projected else None,
                "awarded": row.awarded,
            }
        )
    return {
        "month": today.replace(day=1),
        "progress": progress,
        "points": guide_points(guide_id=guide.pk, store_id=guide.store_id),
    }


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
        "follow_ups": follow_up_counts(scope=scope, today=today),
        "incentives": incentives_context(guide, scope=scope, today=today),
        "completion": None
        if scope.is_guide_only
        else follow_up_completion(scope=scope, first_day=today.replace(day=1), today=today),
        "links": {
            "members": reverse("phone-members"),
            "follow_ups": reverse("phone-follow-ups"),
            "commission": reverse("phone-commission"),
            "recruit": reverse("phone-recruit"),
        },
    }

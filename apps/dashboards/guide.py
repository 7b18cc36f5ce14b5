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

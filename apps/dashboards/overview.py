"""The start pages of region managers and HQ: how the stores and the system are doing."""

import datetime as dt

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.commissions.models import CommissionEntry, Settlement
from apps.core.dates import month_start
from apps.core.money import money_from_db
from apps.core.roles import Role, user_has_role
from apps.core.scoping import Scope, scope_queryset
from apps.core.webhooks import webhook_endpoints_disabled
from apps.customers.models import Membership
from apps.dashboards.health import job_health
from apps.engagement.selectors import follow_up_completion
from apps.stores.models import Store

STORES_SHOWN = 50
TOP_REGIONS = 5
FAILED_JOBS_DAYS = 7
FAILED_JOBS_SHOWN = 5


def store_ranking(*, scope: Scope, today: dt.date) -> list[dict]:
    """Stores of ``scope`` ranked by new members this month, with commission and follow-ups.

    Three grouped queries (members, commission, follow-ups) and the store names.
    """
    first_day = today.replace(day=1)
    new_members = dict(
        scope_queryset(Membership.objects.order_by(), scope)
        .filter(bound_at__gte=month_start(today), store__isnull=False)
        .values("store_id")
        .annotate(n=Count("pk"))
        .values_list("store_id", "n")
    )
    commission = dict(
        scope_queryset(CommissionEntry.objects.order_by(), scope)
        .filter(business_date__gte=first_day, business_date__lte=today)
        .values("store_id")
        .annotate(total=Sum("amount"))
        .values_list("store_id", "total")
    )
    completion = {
        row.guide_id: row
        for row in follow_up_completion(scope=scope, first_day=first_day, today=today, by="store")
    }
    store_ids = set(new_members) | set(commission) | set(completion)
    names = dict(Store.objects.filter(pk__in=store_ids).values_list("pk", "name"))
    rows = [
        {
            "store": names.get(store_id, "-"),
            "new_members": new_members.get(store_id, 0),
            "commission": money_from_db(commission.get(store_id)),
            "completion": completion[store_id].rate if store_id in completion else None,
        }
        for store_id in store_ids
    ]
    rows.sort(key=lambda row: (-row["new_members"], -row["commission"], row["store"]))
    return rows[:STORES_SHOWN]


def region_dashboard_context(user, *, scope: Scope, today: dt.date | None = None) -> dict | None:
    """Return a region manager's start page, or None for other roles."""
    if not user_has_role(user, Role.REGION_MANAGER) or user_has_role(user, Role.HQ_OPS):
        return None
    today = today or timezone.localdate()
    return {"stores": store_ranking(scope=scope, today=today), "today": today}


def hq_dashboard_context(user, *, today: dt.date | None = None) -> dict | None:
    """Return HQ's start page: totals, top regions, pending members, open settlements, failures."""
    if not user_has_role(user, Role.HQ_OPS):
        return None
    today = today or timezone.localdate()
    first_day = today.replace(day=1)
    members = Membership.objects.order_by().aggregate(
        total=Count("pk"),
        new=Count("pk", filter=Q(joined_at__gte=month_start(today))),
        pending=Count("pk", filter=Q(assignment_status=Membership.Status.PENDING)),
        unassigned=Count("pk", filter=Q(assignment_status=Membership.Status.UNASSIGNED)),
    )
    month = CommissionEntry.objects.filter(business_date__gte=first_day, business_date__lte=today)
    regions = list(
        month.order_by()
        .values("store__region__name")
        .annotate(total=Sum("amount"))
        .order_by("-total")[:TOP_REGIONS]
    )
    open_settlements = Settlement.objects.filter(status=Settlement.Status.OPEN).aggregate(
        count=Count("pk"), total=Sum("total")
    )
    since = timezone.now() - dt.timedelta(days=FAILED_JOBS_DAYS)
    failed = TaskResult.objects.filter(status="FAILURE", date_done__gte=since)
    return {
        "members": members,
        "commission_month": money_from_db(month.aggregate(total=Sum("amount"))["total"]),
        "top_regions": [
            {"name": row["store__region__name"] or "-", "total": money_from_db(row["total"])}
            for row in regions
        ],
        "open_settlements": {
            "count": open_settlements["count"],
            "total": money_from_db(open_settlements["total"]),
        },
        "failed_jobs": failed.count(),
        "failed_recent": list(
            failed.order_by("-date_done").values("task_name", "date_done")[:FAILED_JOBS_SHOWN]
        ),
        "stores": store_ranking(scope=Scope(everything=True, masks_phones=False), today=today),
        "webhooks_disabled": webhook_endpoints_disabled(),
        "jobs": job_health(),
    }

"""The HQ commission report page of the admin: the same report and exports as the API."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from apps.commissions import reports
from apps.commissions.selectors import EntryStatus
from apps.commissions.serializers import CommissionReportQuerySerializer
from apps.commissions.views import commission_report_answer
from apps.core.scoping import scope_for_request, scope_queryset
from apps.guides.models import Guide
from apps.stores.models import Brand, Region, Store

ROWS_SHOWN = 500  # the page shows this many groups; the exports carry every one
# Grouped by region, store, guide or brand, the page first shows the groups
# earning most, so that a few hundred stores do not make a page metres long;
# "show all" lists them all (up to ROWS_SHOWN) in their usual order.
TOP_GROUPS = 20
RANKED_GROUPINGS = {
    reports.Grouping.REGION, reports.Grouping.STORE, reports.Grouping.GUIDE,
    reports.Grouping.BRAND,
}  # fmt: skip


# Pickers offer at most this many codes each: a region manager's stores fit,
# HQ's 200,000 stores do not (the field still takes any code typed in).
PICKER_LIMIT = 1000


def _picker(rows) -> list[tuple[str, str]]:
    options = list(rows[: PICKER_LIMIT + 1])
    return [] if len(options) > PICKER_LIMIT else options


def report_pickers(request) -> dict[str, list[tuple[str, str]]]:
    """Return (code, name) choices for the brand, region, store and guide fields."""
    scope = scope_for_request(request)
    stores = scope_queryset(
        Store.objects.filter(is_active=True), scope, store_field="pk", guide_field="guides"
    )
    guides = scope_queryset(
        Guide.objects.filter(is_active=True), scope, store_field="store", guide_field="pk"
    )
    return {
        "brands": _picker(Brand.objects.order_by("code").values_list("code", "name")),
        "regions": _picker(Region.objects.order_by("code").values_list("code", "name")),
        "stores": _picker(stores.order_by("code").values_list("code", "name")),
        "guides": _picker(guides.order_by("employee_no").values_list("employee_no", "name")),
    }


def commission_report_view(request):
    """Show the report with its filters, a bar chart of the groups and export links."""
    if not reports.can_read_commission_report(request.user):
        raise PermissionDenied
    params = {key: value for key, value in request.GET.items() if value != ""}
    query = CommissionReportQuerySerializer(data=params)
    context = {
        **admin.site.each_context(request),
        "title": _("Commission report"),
        "groupings": reports.Grouping.CHOICES,
        "leaderboard_groupings": reports.LEADERBOARD_CHOICES,
        "statuses": EntryStatus.choices,
        "params": params,
        "errors": {},
        "pickers": report_pickers(request),
    }
    if not query.is_valid():
        context["errors"] = {
            field: " ".join(map(str, msgs)) for field, msgs in query.errors.items()
        }
        return TemplateResponse(request, "admin/commissions/report.html", context, status=400)
    answer = commission_report_answer(request, query)
    if not isinstance(answer, dict):
        return answer
    rows = answer["rows"]
    top_only = (
        answer["group_by"] in RANKED_GROUPINGS
        and request.GET.get("show") != "all"
        and len(rows) > TOP_GROUPS
    )
    if top_only:
        shown = sorted(rows, key=lambda row: abs(row["amount"]), reverse=True)[:TOP_GROUPS]
    else:
        shown = rows[:ROWS_SHOWN]
    highest = max((abs(row["amount"]) for row in shown), default=0)
    for row in shown:
        row["width"] = int(abs(row["amount"]) * 100 / highest) if highest else 0
    query_string = request.GET.copy()
    query_string.pop("export", None)
    query_string.pop("show", None)
    context.update(
        rows=shown,
        top_only=top_only,
        top_groups=TOP_GROUPS,
        group_count=len(rows),
        more_rows=not top_only and len(rows) > ROWS_SHOWN,
        totals=answer["totals"],
        group_by=answer["group_by"],
        leaderboard=answer.get("leaderboard"),
        query_string=query_string.urlencode(),
    )
    return TemplateResponse(request, "admin/commissions/report.html", context)

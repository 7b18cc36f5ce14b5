"""The HQ commission report page of the admin; the same query and exports as the API."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from apps.commissions import reports
from apps.commissions.serializers import CommissionReportQuerySerializer
from apps.commissions.views import commission_report_response
from apps.core.roles import Role, user_has_role
from apps.core.scoping import scope_for_request

ROWS_SHOWN = 500  # the page shows this many groups; the exports carry every one


def can_read_commission_report(user) -> bool:
    return user_has_role(user, Role.HQ_OPS, Role.REGION_MANAGER)


def commission_report_view(request):
    """Show the report with its filters, a bar chart of the groups and export links."""
    if not can_read_commission_report(request.user):
        raise PermissionDenied
    params = {key: value for key, value in request.GET.items() if value != ""}
    query = CommissionReportQuerySerializer(data=params)
    context = {
        **admin.site.each_context(request),
        "title": _("Commission report"),
        "groupings": reports.Grouping.CHOICES,
        "statuses": reports.SettlementStatus.CHOICES,
        "params": params,
        "errors": {},
    }
    if not query.is_valid():
        context["errors"] = {
            field: " ".join(map(str, msgs)) for field, msgs in query.errors.items()
        }
        return TemplateResponse(request, "admin/commissions/report.html", context, status=400)
    scope = scope_for_request(request)
    export = commission_report_response(query, scope=scope)
    if export is not None:
        return export
    filters = query.report_filters()
    rows, totals = reports.report_with_totals(
        reports.commission_report_rows(scope=scope, filters=filters)
    )
    shown = rows[:ROWS_SHOWN]
    highest = max((abs(row["amount"]) for row in shown), default=0)
    for row in shown:
        row["width"] = int(abs(row["amount"]) * 100 / highest) if highest else 0
    query_string = request.GET.copy()
    query_string.pop("export", None)
    context.update(
        rows=shown,
        more_rows=len(rows) > ROWS_SHOWN,
        totals=totals,
        group_by=filters.group_by,
        query_string=query_string.urlencode(),
    )
    return TemplateResponse(request, "admin/commissions/report.html", context)

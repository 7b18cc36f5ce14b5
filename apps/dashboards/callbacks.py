"""The admin start page's hook (unfold's ``DASHBOARD_CALLBACK``): each role's dashboard."""

from django.urls import reverse

from apps.commissions.reports import can_read_commission_report
from apps.core.scoping import scope_for_request
from apps.dashboards.guide import guide_dashboard_context
from apps.dashboards.overview import hq_dashboard_context, region_dashboard_context


def dashboard_callback(request, context: dict) -> dict:
    """Add the caller's dashboard to the admin index."""
    scope = scope_for_request(request)
    context["guide_dashboard"] = guide_dashboard_context(request.user, scope=scope)
    if context["guide_dashboard"] is None:
        context["hq_dashboard"] = hq_dashboard_context(request.user)
        context["region_dashboard"] = region_dashboard_context(request.user, scope=scope)
    if can_read_commission_report(request.user):
        context["commission_report_url"] = reverse("commission-report")
    return context

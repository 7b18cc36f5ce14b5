from django.urls import path
from rest_framework.routers import DefaultRouter

from apps.commissions.views import (
    CommissionAdjustmentViewSet,
    CommissionEntryViewSet,
    CommissionPlanViewSet,
    CommissionReportView,
    OrderViewSet,
    RefundBatchView,
    SettlementTermsViewSet,
    SettlementViewSet,
)
from apps.customers.views import MembershipViewSet
from apps.dashboards.api import MeView, MyMembersView
from apps.engagement.views import FollowUpViewSet, MemberTagViewSet, NoteViewSet, TagViewSet
from apps.guides.views import GuideViewSet
from apps.incentives.views import BonusPlanViewSet, PointsAccountViewSet, SalesTargetViewSet
from apps.stores.views import BrandViewSet, RegionViewSet, StoreViewSet


class Router(DefaultRouter):
    """DRF's router, whose API root also lists the endpoints that are not viewsets."""

    extra_root_entries = {"reports/commissions": "report-commissions", "me": "me"}

    def get_api_root_view(self, api_urls=None):
        view = super().get_api_root_view(api_urls)
        view.view_initkwargs["api_root_dict"].update(self.extra_root_entries)
        return view


router = Router()
router.register("brands", BrandViewSet, basename="brand")
router.register("regions", RegionViewSet, basename="region")
router.register("stores", StoreViewSet, basename="store")
router.register("guides", GuideViewSet, basename="guide")
router.register("members", MembershipViewSet, basename="member")
router.register("orders", OrderViewSet, basename="order")
router.register("commission-plans", CommissionPlanViewSet, basename="commission-plan")
router.register("settlement-terms", SettlementTermsViewSet, basename="settlement-terms")
router.register(
    "commission-adjustments", CommissionAdjustmentViewSet, basename="commission-adjustment"
)
router.register("commission-entries", CommissionEntryViewSet, basename="commission-entry")
router.register("settlements", SettlementViewSet, basename="settlement")
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("notes", NoteViewSet, basename="note")
router.register("tags", TagViewSet, basename="tag")
router.register("member-tags", MemberTagViewSet, basename="member-tag")
router.register("targets", SalesTargetViewSet, basename="target")
router.register("bonus-plans", BonusPlanViewSet, basename="bonus-plan")
router.register("points", PointsAccountViewSet, basename="points")

app_name = "api"
urlpatterns = [
    path("reports/commissions/", CommissionReportView.as_view(), name="report-commissions"),
    path("me/", MeView.as_view(), name="me"),
    path("refunds/batch/", RefundBatchView.as_view(), name="refund-batch"),
    path("me/members/", MyMembersView.as_view(), name="me-members"),
    *router.urls,
]

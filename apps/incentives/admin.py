"""The incentives in the admin: policies written by HQ through the service, the rest shown.

Targets and bonus plans are written through the API (``/api/v1/targets/``,
its CSV import, ``/api/v1/bonus-plans/``), where the services check them;
awards, closes and points movements are append-only ledgers.
"""

from django.contrib import admin

from apps.core.admin_scoping import (
    ReadOnlyAdminMixin,
    ScopedModelAdmin,
    ServiceCheckedForm,
    ServiceWriteAdminMixin,
)
from apps.incentives import selectors, services
from apps.incentives.models import (
    BonusAward,
    BonusMonthClose,
    BonusPlan,
    IncentivePolicy,
    PointsAccount,
    PointsMovement,
    SalesTarget,
)

POLICY_FIELDS = [
    "brand", "close_hold_days", "points_per_member", "points_per_100_sales",
    "points_per_follow_up", "points_expire_months",
]  # fmt: skip


class IncentivePolicyForm(ServiceCheckedForm):
    class Meta:
        model = IncentivePolicy
        fields = POLICY_FIELDS

    def service_check(self, cleaned_data):
        return None  # the model's validators are the checks; full_clean ran already


@admin.register(IncentivePolicy)
class IncentivePolicyAdmin(ServiceWriteAdminMixin, ScopedModelAdmin):
    form = IncentivePolicyForm
    list_display = POLICY_FIELDS
    scope_store_path = None
    scope_guide_path = None

    def has_delete_permission(self, request, obj=None):
        return False

    def service_save(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in POLICY_FIELDS}
        return services.incentive_policy_set(**fields)


class ReadOnlyScopedAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Shown, scoped, never written here."""


@admin.register(SalesTarget)
class SalesTargetAdmin(ReadOnlyScopedAdmin):
    list_display = ["month", "brand", "beneficiary", "store", "guide", "amount", "set_by"]
    list_filter = ["beneficiary", "brand", "month"]
    search_fields = ["store__code", "guide__employee_no"]
    list_select_related = ["brand", "store", "guide", "set_by"]


@admin.register(BonusPlan)
class BonusPlanAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "name", "brand", "beneficiary", "store_kind", "store", "basis", "brackets", "cap",
        "valid_from", "valid_to",
    ]  # fmt: skip
    list_filter = ["beneficiary", "basis", "brand"]
    list_select_related = ["brand", "store"]

    def scope_rows(self, queryset, scope):
        return queryset.filter(pk__in=selectors.bonus_plan_list(scope=scope).values("pk"))


@admin.register(BonusAward)
class BonusAwardAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "month", "revision", "brand", "beneficiary", "guide", "store", "net_sales",
        "target_amount", "brackets_reached", "bonus", "amount", "entry", "created_at",
    ]  # fmt: skip
    list_filter = ["beneficiary", "brand", "month"]
    search_fields = ["store__code", "guide__employee_no"]
    list_select_related = ["brand", "guide", "store"]
    show_full_result_count = False


@admin.register(BonusMonthClose)
class BonusMonthCloseAdmin(ReadOnlyScopedAdmin):
    list_display = ["month", "brand", "closed_at", "last_checked_at"]
    scope_store_path = None
    scope_guide_path = None


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyScopedAdmin):
    list_display = ["guide", "brand", "balance"]
    list_filter = ["brand"]
    search_fields = ["guide__employee_no"]
    list_select_related = ["guide", "brand"]
    scope_store_path = "guide__store"


@admin.register(PointsMovement)
class PointsMovementAdmin(ReadOnlyScopedAdmin):
    list_display = ["created_at", "account", "kind", "points", "month", "reward", "reason",
                    "actor", "reference"]  # fmt: skip
    list_filter = ["kind", "reward"]
    search_fields = ["reference", "account__guide__employee_no"]
    list_select_related = ["account", "actor"]
    scope_store_path = "account__guide__store"
    scope_guide_path = "account__guide"

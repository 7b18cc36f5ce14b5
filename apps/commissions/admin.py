"""The commissions admin: scoped like the API, ledger rows read-only, HQ writes and pays.

Guides see their own orders, entries and settlements; store managers their
store's; region managers their regions'; HQ operations everything. Plans,
settlement terms and brand policies are written by HQ operations only and
keep their history; only HQ operations mark a settlement paid.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from apps.commissions import services
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionEntry,
    CommissionPlan,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementCutoff,
    SettlementTerms,
)
from apps.core.admin_scoping import (
    HQWritableHistoryAdmin,
    HQWritableModelAdmin,
    ReadOnlyAdminMixin,
    ScopedHistoryAdmin,
    ScopedModelAdmin,
)


class ReadOnlyScopedAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Ledger rows are append-only: the admin shows them, scoped, and never writes them."""


@admin.register(BrandCommissionPolicy)
class BrandCommissionPolicyAdmin(HQWritableHistoryAdmin):
    list_display = ["brand", "attribution_policy", "binding_days"]
    list_filter = ["attribution_policy"]
    search_fields = ["brand__code", "brand__name"]
    autocomplete_fields = ["brand"]
    list_select_related = ["brand"]


@admin.register(SettlementTerms)
class SettlementTermsAdmin(HQWritableHistoryAdmin):
    list_display = ["brand", "store", "mode", "hold_days"]
    list_filter = ["mode", "brand"]
    search_fields = ["brand__code", "store__code", "store__name"]
    autocomplete_fields = ["brand", "store"]
    list_select_related = ["brand", "store"]


@admin.register(SettlementCutoff)
class SettlementCutoffAdmin(ReadOnlyAdminMixin, HQWritableModelAdmin):
    """How far each brand's scheduled runs have closed: moved only by the runs."""

    list_display = ["brand", "mode", "closed_through"]
    list_filter = ["mode", "brand"]
    list_select_related = ["brand"]


@admin.register(CommissionPlan)
class CommissionPlanAdmin(HQWritableHistoryAdmin):
    list_display = [
        "brand", "specificity", "store_kind", "store", "category", "guide_rate", "store_rate",
        "valid_from", "valid_to",
    ]  # fmt: skip
    list_filter = ["brand", "specificity", "store_kind"]
    search_fields = ["brand__code", "store__code", "category"]
    autocomplete_fields = ["brand", "store"]
    list_select_related = ["brand", "store"]

    def save_model(self, request, obj, form, change):
        # The same scope ranking and overlap rule as the API; the form already
        # ran full_clean.
        obj.specificity = services.plan_specificity(
            store=obj.store, store_kind=obj.store_kind, category=obj.category
        )
        services.commission_plan_validate(obj)
        super().save_model(request, obj, form, change)


class OrderLineInline(TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "category", "quantity", "amount"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyScopedAdmin):
    scope_guide_path = "attributed_guide"
    phone_paths = ("member_phone",)
    list_display = [
        "order_no", "brand", "store", "attributed_guide", "attribution_reason", "member_phone",
        "amount", "refunded_amount", "paid_at", "business_date",
    ]  # fmt: skip
    list_filter = ["brand", "attribution_reason", "business_date"]
    search_fields = ["order_no", "store__code", "attributed_guide__employee_no", "member_phone"]
    list_select_related = ["brand", "store", "attributed_guide"]
    date_hierarchy = "business_date"
    inlines = [OrderLineInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyScopedAdmin):
    scope_store_path = "order__store"
    scope_guide_path = "order__attributed_guide"
    list_display = ["refund_no", "order", "amount", "refunded_at", "business_date"]
    search_fields = ["refund_no", "order__order_no"]
    list_select_related = ["order"]


@admin.register(CommissionEntry)
class CommissionEntryAdmin(ReadOnlyScopedAdmin):
    """The statement: every entry with the order, rate and plan that produced it."""

    list_display = [
        "id", "business_date", "order", "refund", "beneficiary", "guide", "store", "brand",
        "category", "base_amount", "rate", "plan", "amount", "mode", "settlement_status",
    ]  # fmt: skip
    list_filter = ["beneficiary", "mode", "brand", "business_date"]
    search_fields = ["order__order_no", "refund__refund_no", "guide__employee_no", "store__code"]
    list_select_related = [
        "order", "refund", "guide", "store", "brand", "settlement", "plan__brand", "plan__store",
    ]  # fmt: skip
    date_hierarchy = "business_date"
    show_full_result_count = False

    @admin.display(description=_("settlement"))
    def settlement_status(self, entry):
        if entry.settlement_id is None or entry.settlement.status == Settlement.Status.OPEN:
            return _("Not yet settled")
        return entry.settlement.get_status_display()


@admin.register(Settlement)
class SettlementAdmin(ScopedHistoryAdmin):
    list_display = [
        "id", "beneficiary", "guide", "store", "brand", "mode", "period_start", "period_end",
        "entries_total", "carried_forward", "total", "status", "payout_ref",
    ]  # fmt: skip
    list_filter = ["status", "mode", "beneficiary", "brand"]
    search_fields = ["guide__employee_no", "store__code", "payout_ref", "source_ref"]
    list_select_related = ["guide", "store", "brand"]
    readonly_fields = [f.name for f in Settlement._meta.fields if f.name not in ("payout_ref",)]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Marking paid goes through the service, which checks and stamps it;
        # ScopedModelAdmin lets only HQ operations change a settlement.
        services.settlement_mark_paid(settlement=obj, payout_ref=obj.payout_ref)

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from apps.commissions import services
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionEntry,
    CommissionPlan,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementTerms,
)


class ReadOnlyAdmin(ModelAdmin):
    """Ledger rows are append-only: the admin shows them and never writes them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BrandCommissionPolicy)
class BrandCommissionPolicyAdmin(ModelAdmin):
    list_display = ["brand", "attribution_policy", "binding_days"]
    list_filter = ["attribution_policy"]
    search_fields = ["brand__code", "brand__name"]
    autocomplete_fields = ["brand"]


@admin.register(SettlementTerms)
class SettlementTermsAdmin(ModelAdmin):
    list_display = ["brand", "store", "mode", "hold_days"]
    list_filter = ["mode", "brand"]
    search_fields = ["brand__code", "store__code", "store__name"]
    autocomplete_fields = ["brand", "store"]
    list_select_related = ["brand", "store"]


@admin.register(CommissionPlan)
class CommissionPlanAdmin(ModelAdmin):
    list_display = [
        "brand", "specificity", "store_kind", "store", "category", "guide_rate", "store_rate",
        "valid_from", "valid_to",
    ]  # fmt: skip
    list_filter = ["brand", "specificity", "store_kind"]
    search_fields = ["brand__code", "store__code", "category"]
    autocomplete_fields = ["brand", "store"]
    list_select_related = ["brand", "store"]

    def save_model(self, request, obj, form, change):
        # The same overlap rule as the API; the form already ran full_clean.
        services.commission_plan_validate(obj)
        super().save_model(request, obj, form, change)


class OrderLineInline(TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "category", "quantity", "amount"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "order_no", "brand", "store", "attributed_guide", "attribution_reason", "amount",
        "refunded_amount", "paid_at", "business_date",
    ]  # fmt: skip
    list_filter = ["brand", "attribution_reason", "business_date"]
    search_fields = ["order_no", "store__code", "attributed_guide__employee_no", "member_phone"]
    list_select_related = ["brand", "store", "attributed_guide"]
    date_hierarchy = "business_date"
    inlines = [OrderLineInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["refund_no", "order", "amount", "refunded_at", "business_date"]
    search_fields = ["refund_no", "order__order_no"]
    list_select_related = ["order"]


@admin.register(CommissionEntry)
class CommissionEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "order", "refund", "beneficiary", "guide", "store", "brand", "category",
        "business_date", "base_amount", "rate", "amount", "mode", "settlement",
    ]  # fmt: skip
    list_filter = ["beneficiary", "mode", "brand", "business_date"]
    search_fields = ["order__order_no", "refund__refund_no", "guide__employee_no", "store__code"]
    list_select_related = ["order", "refund", "guide", "store", "brand", "settlement"]
    show_full_result_count = False


@admin.register(Settlement)
class SettlementAdmin(ModelAdmin):
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
        # Marking paid goes through the service, which checks and stamps it.
        services.settlement_mark_paid(settlement=obj, payout_ref=obj.payout_ref)

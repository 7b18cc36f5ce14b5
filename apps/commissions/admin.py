"""The commissions admin: scoped like the API, ledger rows read-only, HQ writes and pays.

Guides see their own orders, entries and settlements; store managers their
store's; region managers their regions'; HQ operations everything. Plans,
settlement terms and brand policies are written by HQ operations only and
keep their history; only HQ operations mark a settlement paid.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from apps.commissions import services
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionAdjustment,
    CommissionEntry,
    CommissionPlan,
    Order,
    OrderLine,
    Refund,
    Settlement,
    SettlementCutoff,
    SettlementTerms,
)
from apps.commissions.services.plans import PLAN_FIELDS, PLAN_FROZEN_FIELDS
from apps.core.admin_scoping import (
    HQWritableHistoryAdmin,
    HQWritableModelAdmin,
    ReadOnlyAdminMixin,
    ScopedHistoryAdmin,
    ScopedModelAdmin,
    ServiceCheckedForm,
    ServiceWriteAdminMixin,
)
from apps.customers.admin import PersonalDataAccessLogMixin
from apps.customers.models import Customer


class ReadOnlyScopedAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Ledger rows are append-only: the admin shows them, scoped, and never writes them."""


def _changed_fields(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data}


@admin.register(BrandCommissionPolicy)
class BrandCommissionPolicyAdmin(ServiceWriteAdminMixin, HQWritableHistoryAdmin):
    list_display = ["brand", "attribution_policy", "binding_days", "till_grace_minutes"]
    list_filter = ["attribution_policy"]
    search_fields = ["brand__code", "brand__name"]
    autocomplete_fields = ["brand"]
    list_select_related = ["brand"]

    def get_readonly_fields(self, request, obj=None):
        return ["brand"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False  # a brand keeps one policy; set its values instead

    def service_save(self, request, obj, form, change):
        return services.brand_commission_policy_set(
            brand=obj.brand,
            attribution_policy=obj.attribution_policy,
            binding_days=obj.binding_days,
            till_grace_minutes=obj.till_grace_minutes,
        )


class SettlementTermsForm(ServiceCheckedForm):
    def service_check(self, cleaned_data):
        brand = cleaned_data.get("brand", self.instance.brand if self.instance.pk else None)
        store = cleaned_data.get("store", self.instance.store if self.instance.pk else None)
        cleaned_data["hold_days"] = services.settlement_terms_check(
            brand=brand, store=store, mode=cleaned_data["mode"],
            hold_days=cleaned_data.get("hold_days"),
        )  # fmt: skip


@admin.register(SettlementTerms)
class SettlementTermsAdmin(ServiceWriteAdminMixin, HQWritableHistoryAdmin):
    form = SettlementTermsForm
    list_display = ["brand", "store", "mode", "hold_days"]
    list_filter = ["mode", "brand"]
    search_fields = ["brand__code", "store__code", "store__name"]
    autocomplete_fields = ["brand", "store"]
    list_select_related = ["brand", "store"]

    def get_readonly_fields(self, request, obj=None):
        # The brand and store are what the terms are of: other terms are added.
        return ["brand", "store"] if obj is not None else []

    def service_save(self, request, obj, form, change):
        return services.settlement_terms_set(
            brand=obj.brand, store=obj.store, mode=obj.mode, hold_days=obj.hold_days
        )

    def service_delete(self, request, obj):
        services.settlement_terms_delete(terms=obj)


@admin.register(SettlementCutoff)
class SettlementCutoffAdmin(ReadOnlyAdminMixin, HQWritableModelAdmin):
    """How far each brand's scheduled runs have closed: moved only by the runs."""

    list_display = ["brand", "mode", "closed_through"]
    list_filter = ["mode", "brand"]
    list_select_related = ["brand"]


class CommissionPlanForm(ServiceCheckedForm):
    def service_check(self, cleaned_data):
        fields = {name: cleaned_data[name] for name in PLAN_FIELDS if name in cleaned_data}
        if self.instance.pk is None:
            services.commission_plan_check(**fields)
        else:
            current = CommissionPlan.objects.get(pk=self.instance.pk)
            services.commission_plan_check(plan=current, **fields)


@admin.register(CommissionPlan)
class CommissionPlanAdmin(ServiceWriteAdminMixin, HQWritableHistoryAdmin):
    """Plans; one that priced entries shows its rates, scope and start read-only, and why."""

    form = CommissionPlanForm
    list_display = [
        "brand", "specificity", "store_kind", "store", "category", "guide_rate", "store_rate",
        "valid_from", "valid_to",
    ]  # fmt: skip
    list_filter = ["brand", "specificity", "store_kind"]
    search_fields = ["brand__code", "store__code", "category"]
    autocomplete_fields = ["brand", "store"]
    list_select_related = ["brand", "store"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and services.plan_has_entries(obj):
            return ["why_fixed", *PLAN_FROZEN_FIELDS]
        return []

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # one plan at a time, through the service
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and services.plan_has_entries(obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("why these fields are fixed"))
    def why_fixed(self, plan):
        successor = (
            reverse("admin:commissions_commissionplan_add")
            + "?"
            + urlencode(
                {
                    "brand": plan.brand_id,
                    "store": plan.store_id or "",
                    "store_kind": plan.store_kind,
                    "category": plan.category,
                    "guide_rate": plan.guide_rate,
                    "store_rate": plan.store_rate,
                }
            )
        )
        return format_html(
            '{} <a href="{}">{}</a>',
            _(
                "This plan has priced ledger entries, so its rates, scope and start are "
                "fixed. To change the rates, end it (valid to) and add a successor starting "
                "the next day."
            ),
            successor,
            _("Add a successor"),
        )

    def service_save(self, request, obj, form, change):
        if change:
            return services.commission_plan_update(
                plan=CommissionPlan.objects.get(pk=obj.pk), **_changed_fields(form)
            )
        return services.commission_plan_create(
            **{name: form.cleaned_data[name] for name in PLAN_FIELDS if name in form.cleaned_data}
        )

    def service_delete(self, request, obj):
        services.commission_plan_delete(plan=obj)


class CommissionAdjustmentForm(ServiceCheckedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "store" in self.fields:
            self.fields["store"].required = False  # a guide's is the guide's store
            self.fields["store"].help_text = _(
                "For a store's adjustment; a guide's is paid with the guide's store."
            )

    def service_check(self, cleaned_data):
        cleaned_data["store"] = services.commission_adjustment_check(
            brand=cleaned_data["brand"], beneficiary=cleaned_data["beneficiary"],
            amount=cleaned_data["amount"], reason=cleaned_data["reason"],
            guide=cleaned_data.get("guide"), store=cleaned_data.get("store"),
            order=cleaned_data.get("order"),
        )  # fmt: skip

    class Meta:
        model = CommissionAdjustment
        fields = [
            "reference",
            "brand",
            "beneficiary",
            "guide",
            "store",
            "order",
            "amount",
            "reason",
        ]


@admin.register(CommissionAdjustment)
class CommissionAdjustmentAdmin(ServiceWriteAdminMixin, ScopedModelAdmin):
    """HQ's corrections; each is booked as one ledger entry, never changed afterwards."""

    form = CommissionAdjustmentForm
    list_display = [
        "reference", "business_date", "brand", "beneficiary", "guide", "store", "order",
        "amount", "reason", "actor", "created_at",
    ]  # fmt: skip
    list_filter = ["beneficiary", "brand", "business_date"]
    search_fields = ["reference", "guide__employee_no", "store__code", "order__order_no"]
    autocomplete_fields = ["brand", "guide", "store", "order"]
    list_select_related = ["brand", "guide", "store", "order", "actor"]
    date_hierarchy = "business_date"

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("reference", f"ADJ-{uuid.uuid4().hex[:12].upper()}")
        return initial

    def has_change_permission(self, request, obj=None):
        return False  # the ledger is append-only: a correction is another adjustment

    def has_delete_permission(self, request, obj=None):
        return False

    def service_save(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data.get(name) for name in CommissionAdjustmentForm.Meta.fields
        }
        adjustment, _created = services.commission_adjustment_create(**fields, actor=request.user)
        return adjustment


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
class OrderAdmin(PersonalDataAccessLogMixin, ReadOnlyScopedAdmin):
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

    def shown_customer_ids(self, rows) -> list[int]:
        phones = {order.member_phone for order in rows if order.member_phone}
        return list(Customer.objects.filter(phone__in=phones).values_list("pk", flat=True))


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
        "id", "business_date", "kind", "order", "refund", "beneficiary", "guide", "store",
        "brand", "category", "base_amount", "rate", "plan", "amount", "mode",
        "settlement_status", "note",
    ]  # fmt: skip
    list_filter = ["kind", "beneficiary", "mode", "brand", "business_date"]
    search_fields = [
        "order__order_no", "refund__refund_no", "adjustment__reference", "guide__employee_no",
        "store__code",
    ]  # fmt: skip
    list_select_related = [
        "order", "refund", "guide", "store", "brand", "settlement", "plan__brand", "plan__store",
        "adjustment__order",
    ]  # fmt: skip
    date_hierarchy = "business_date"
    show_full_result_count = False

    @admin.display(description=_("note"))
    def note(self, entry):
        """An adjustment's reference, order and reason: why the amount is what it is."""
        if entry.adjustment_id is None:
            return ""
        adjustment = entry.adjustment
        order = f" ({adjustment.order.order_no})" if adjustment.order_id else ""
        return f"{adjustment.reference}{order}: {adjustment.reason}"

    @admin.display(description=_("settlement"))
    def settlement_status(self, entry):
        if entry.settlement_id is None or entry.settlement.status == Settlement.Status.OPEN:
            return _("Not yet settled")
        return entry.settlement.get_status_display()


class SettlementForm(ServiceCheckedForm):
    def service_check(self, cleaned_data):
        current = Settlement.objects.get(pk=self.instance.pk)
        services.settlement_mark_paid_check(
            settlement=current, payout_ref=cleaned_data.get("payout_ref", "")
        )


@admin.register(Settlement)
class SettlementAdmin(ScopedHistoryAdmin):
    form = SettlementForm
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
        # Marking paid goes through the service, which checks and stamps it
        # (the form ran the same checks); ScopedModelAdmin lets only HQ
        # operations change a settlement.
        paid = services.settlement_mark_paid(settlement=obj, payout_ref=obj.payout_ref)
        obj.status, obj.paid_at = paid.status, paid.paid_at

"""The members admin: customers and memberships scoped by role, phones masked."""

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from apps.core.admin_scoping import HQWritableModelAdmin, ReadOnlyAdminMixin, ScopedModelAdmin
from apps.core.exports import csv_response, xlsx_response
from apps.core.roles import Role, user_has_role
from apps.customers.models import (
    AssignmentEvent,
    BrandPrivacyPolicy,
    Customer,
    ErasedPhone,
    Membership,
    MembershipConsent,
    PersonalDataAccess,
    PrivacyNotice,
    RetentionRun,
)
from apps.customers.selectors import customer_list, member_export_rows
from apps.customers.services import (
    membership_consent_withdraw,
    membership_erase,
    personal_data_access_record,
)


class PersonalDataAccessLogMixin:
    """Log HQ's views of full phone numbers and birthdays: detail pages and lists.

    ``shown_customer_ids`` names the customers whose data the rows show.
    Roles that see masks write nothing: they see no full number.
    """

    def shown_customer_ids(self, rows) -> list[int]:
        ids = []
        for row in rows:
            customer = row if isinstance(row, Customer) else row.customer
            if customer.erased_at is None:  # a pseudonym is nobody's number
                ids.append(customer.pk)
        return ids

    def _access_record(self, request, kind, rows) -> None:
        if self.masks_phones(request):
            return
        personal_data_access_record(
            actor=request.user,
            kind=kind,
            where=request.path,
            customer_ids=self.shown_customer_ids(rows),
            filters=request.GET.dict(),
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            rows = list(changelist.result_list)
            self._access_record(request, PersonalDataAccess.Kind.ADMIN_LIST, rows)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and obj is not None:
            self._access_record(request, PersonalDataAccess.Kind.ADMIN_DETAIL, [obj])
        return response


class AssignmentEventInline(TabularInline):
    model = AssignmentEvent
    fields = ["created_at", "reason", "from_store", "from_guide", "to_store", "to_guide", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class MembershipConsentInline(TabularInline):
    model = MembershipConsent
    fields = ["purpose", "notice_version", "channel", "captured_by", "consented_at",
              "included_location", "withdrawn_at"]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(PersonalDataAccessLogMixin, ScopedModelAdmin):
    list_display = ["phone", "name", "created_at"]
    search_fields = ["phone", "name"]
    phone_paths = ("phone",)

    def scope_rows(self, queryset, scope):
        return customer_list(scope=scope, queryset=queryset)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.masks_phones(request):
            return fields
        # A guide's follow-up needs the day, never the year.
        return ["birthday_month_day" if name == "birthday" else name for name in fields]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "birthday_month_day", "erased_at"]

    @admin.display(description=_("birthday"))
    def birthday_month_day(self, customer):
        return "-" if customer.birthday is None else customer.birthday.strftime("%m-%d")


@admin.register(Membership)
class MembershipAdmin(PersonalDataAccessLogMixin, ScopedModelAdmin):
    list_display = [
        "customer",
        "customer__phone",
        "brand",
        "store",
        "guide",
        "assignment_status",
        "unassigned_reason",
        "distance_km",
        "source",
        "joined_at",
    ]
    # Guides and store managers work from phones (390 px): the columns that
    # matter to them, no more; every member they see is assigned.
    guide_list_display = ["customer", "brand_code", "bound_on"]
    store_list_display = ["customer", "brand_code", "guide_name", "bound_on"]
    list_filter = ["assignment_status", "unassigned_reason", "source", "brand"]
    search_fields = ["customer__phone", "customer__name", "store__code", "guide__employee_no"]
    list_select_related = ["customer", "brand", "store", "guide"]
    date_hierarchy = "joined_at"
    readonly_fields = [
        "customer",
        "brand",
        "store",
        "guide",
        "assignment_status",
        "unassigned_reason",
        "distance_km",
        "latitude",
        "longitude",
        "requested_store",
        "requested_guide",
        "source",
        "joined_at",
        "bound_at",
        "consent_withdrawn_at",
        "consent_withdrawn_by",
        "erased_at",
        "erased_by",
        "rejoined_after_erasure",
    ]
    inlines = [AssignmentEventInline, MembershipConsentInline]
    phone_paths = ("customer__phone",)
    actions = ["export_csv", "export_xlsx", "withdraw_consent", "erase"]

    def scope_rows(self, queryset, scope):
        queryset = super().scope_rows(queryset, scope)
        if scope.everything:
            return queryset
        return queryset.filter(consent_withdrawn_at__isnull=True, erased_at__isnull=True)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if not user_has_role(request.user, Role.HQ_OPS):
            actions.pop("withdraw_consent", None)
            actions.pop("erase", None)
        return actions

    @admin.action(description=_("Export the selected members (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        rows = self._export_rows(request, queryset)
        return csv_response(rows, filename="members")

    @admin.action(description=_("Export the selected members (XLSX)"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        rows = self._export_rows(request, queryset)
        return xlsx_response(rows, filename="members", sheet="members")

    def _export_rows(self, request, queryset) -> list[list]:
        """Members in marketing use only; masked for every role but HQ, and logged for HQ."""
        masks = self.masks_phones(request)
        members, rows = member_export_rows(queryset, masks_phones=masks)
        if not masks:
            personal_data_access_record(
                actor=request.user,
                kind=PersonalDataAccess.Kind.EXPORT,
                where=request.path,
                customer_ids=[m.customer_id for m in members],
                filters=request.GET.dict(),
                row_count=len(members),
            )
        return rows

    @admin.action(description=_("Withdraw consent of the selected members"), permissions=["change"])
    def withdraw_consent(self, request, queryset):
        count = 0
        for membership in queryset:
            membership_consent_withdraw(membership=membership, actor=request.user)
            count += 1
        messages.success(request, _("Consent withdrawn for %(count)d members.") % {"count": count})

    @admin.action(
        description=_("Erase the personal information of the selected members"),
        permissions=["change"],
    )
    def erase(self, request, queryset):
        count = 0
        for membership in queryset:
            membership_erase(membership=membership, actor=request.user)
            count += 1
        messages.success(request, _("%(count)d members erased.") % {"count": count})

    def get_list_display(self, request):
        if self.scope(request).is_guide_only:
            return list(self.guide_list_display)
        if user_has_role(request.user, Role.STORE_MANAGER) and not self.scope(request).everything:
            return list(self.store_list_display)
        return super().get_list_display(request)

    def has_add_permission(self, request):
        return False

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.masks_phones(request):
            return fields
        # Only HQ sees where a member lives; the others, how far: to 0.1 km.
        hidden = {"latitude", "longitude"}
        return [
            "distance_rounded" if name == "distance_km" else name
            for name in fields
            if name not in hidden
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "distance_rounded"]

    @admin.display(description=_("distance (km)"))
    def distance_rounded(self, membership):
        return "-" if membership.distance_km is None else f"{membership.distance_km:.1f}"

    @admin.display(description=_("brand"), ordering="brand__code")
    def brand_code(self, membership):
        return membership.brand.code

    @admin.display(description=_("guide"), ordering="guide__name")
    def guide_name(self, membership):
        return membership.guide.name if membership.guide else "-"

    @admin.display(description=_("bound at"), ordering="bound_at")
    def bound_on(self, membership):
        if membership.bound_at is None:
            return "-"
        return date_format(timezone.localtime(membership.bound_at), "m-d H:i")


@admin.register(AssignmentEvent)
class AssignmentEventAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ["membership", "reason", "from_store", "from_guide", "to_store", "to_guide"]
    list_filter = ["reason"]
    list_select_related = ["membership__customer", "membership__brand", "from_store",
                           "from_guide", "to_store", "to_guide"]  # fmt: skip
    date_hierarchy = "created_at"
    scope_store_path = "membership__store"
    scope_guide_path = "membership__guide"


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(HQWritableModelAdmin):
    """Each brand's privacy notice, by version: add a new version rather than edit one in use."""

    list_display = ["brand", "version", "title", "published_at"]
    list_filter = ["brand"]
    search_fields = ["version", "title"]
    autocomplete_fields = ["brand"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.consents.exists():
            return ["brand", "version", "title", "body", "published_at"]
        return []


@admin.register(BrandPrivacyPolicy)
class BrandPrivacyPolicyAdmin(HQWritableModelAdmin):
    """Per brand: whether API sign-ups must state consent, re-join recognition, retention."""

    list_display = ["brand", "consent_required", "recognise_rejoins", "retention_months"]
    list_filter = ["consent_required", "recognise_rejoins"]
    autocomplete_fields = ["brand"]


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdminMixin, HQWritableModelAdmin):
    """Who saw members' full phone numbers or birthdays: append-only, for HQ."""

    list_display = ["created_at", "actor_name", "kind", "where", "row_count"]
    list_filter = ["kind", "actor"]
    search_fields = ["actor_name", "where"]
    date_hierarchy = "created_at"
    fields = ["created_at", "actor", "actor_name", "kind", "where", "row_count",
              "customer_ids", "filters"]  # fmt: skip
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return self.is_hq(request)

    def has_module_permission(self, request):
        return self.is_hq(request)


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdminMixin, HQWritableModelAdmin):
    list_display = ["created_at", "brand", "dry_run", "cutoff", "found", "erased"]
    list_filter = ["dry_run", "brand"]
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None):
        return self.is_hq(request)

    def has_module_permission(self, request):
        return self.is_hq(request)


@admin.register(ErasedPhone)
class ErasedPhoneAdmin(ReadOnlyAdminMixin, HQWritableModelAdmin):
    """The keyed hashes by which brands that ask for it recognise erased members joining again."""

    list_display = ["brand", "phone_hash", "erased_at"]
    list_filter = ["brand"]
    date_hierarchy = "erased_at"

    def has_view_permission(self, request, obj=None):
        return self.is_hq(request)

    def has_module_permission(self, request):
        return self.is_hq(request)

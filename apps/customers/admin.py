"""The members admin: customers and memberships scoped by role, phones masked."""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from apps.core.admin_scoping import HQWritableModelAdmin, ReadOnlyAdminMixin, ScopedModelAdmin
from apps.core.roles import Role, user_has_role
from apps.customers.models import (
    AssignmentEvent,
    Customer,
    Membership,
    MembershipConsent,
    PrivacyNotice,
)
from apps.customers.selectors import customer_list


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
class CustomerAdmin(ScopedModelAdmin):
    list_display = ["phone", "name", "created_at"]
    search_fields = ["phone", "name"]
    phone_paths = ("phone",)

    def scope_rows(self, queryset, scope):
        return customer_list(scope=scope, queryset=queryset)


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin):
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
    ]
    inlines = [AssignmentEventInline, MembershipConsentInline]
    phone_paths = ("customer__phone",)

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

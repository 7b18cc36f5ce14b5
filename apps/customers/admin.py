from django.contrib import admin
from unfold.admin import TabularInline

from apps.core.admin_scoping import ScopedModelAdmin
from apps.customers.models import AssignmentEvent, Customer, Membership
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
    # A guide works from a phone: the columns that matter to them, no more.
    guide_list_display = ["customer", "brand", "assignment_status", "bound_at"]
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
    inlines = [AssignmentEventInline]
    phone_paths = ("customer__phone",)

    def get_list_display(self, request):
        if self.scope(request).is_guide_only:
            return list(self.guide_list_display)
        return super().get_list_display(request)

    def has_add_permission(self, request):
        return False


@admin.register(AssignmentEvent)
class AssignmentEventAdmin(ScopedModelAdmin):
    list_display = ["membership", "reason", "from_store", "from_guide", "to_store", "to_guide"]
    list_filter = ["reason"]
    list_select_related = ["membership__customer", "membership__brand", "from_store",
                           "from_guide", "to_store", "to_guide"]  # fmt: skip
    date_hierarchy = "created_at"
    scope_store_path = "membership__store"
    scope_guide_path = "membership__guide"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from apps.customers.models import AssignmentEvent, Customer, Membership


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
class CustomerAdmin(ModelAdmin):
    list_display = ["phone", "name", "created_at"]
    search_fields = ["phone", "name"]


@admin.register(Membership)
class MembershipAdmin(ModelAdmin):
    list_display = [
        "customer",
        "brand",
        "store",
        "guide",
        "assignment_status",
        "unassigned_reason",
        "distance_km",
        "source",
        "joined_at",
    ]
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

    def has_add_permission(self, request):
        return False


@admin.register(AssignmentEvent)
class AssignmentEventAdmin(ModelAdmin):
    list_display = ["membership", "reason", "from_store", "from_guide", "to_store", "to_guide"]
    list_filter = ["reason"]
    list_select_related = ["membership__customer", "membership__brand", "from_store",
                           "from_guide", "to_store", "to_guide"]  # fmt: skip
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

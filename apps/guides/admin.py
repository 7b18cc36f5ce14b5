"""The guides admin, scoped by role, phones masked."""

from django.contrib import admin

from apps.core.admin_scoping import ScopedHistoryAdmin
from apps.guides.models import Guide
from apps.guides.services import guide_changed


@admin.register(Guide)
class GuideAdmin(ScopedHistoryAdmin):
    list_display = ["employee_no", "name", "store", "role", "phone", "is_active"]
    list_filter = ["is_active", "role", "store__brands", "store__region"]
    search_fields = ["employee_no", "name", "phone", "store__code", "store__name"]
    autocomplete_fields = ["store", "user"]
    list_select_related = ["store"]
    scope_guide_path = "pk"
    phone_paths = ("phone",)

    def save_model(self, request, obj, form, change):
        before = (
            Guide.objects.filter(pk=obj.pk).values("is_active", "store_id").get()
            if change
            else {"is_active": False, "store_id": None}
        )
        super().save_model(request, obj, form, change)
        guide_changed(guide=obj, was_active=before["is_active"], old_store_id=before["store_id"])

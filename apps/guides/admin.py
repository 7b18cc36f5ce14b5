from django.contrib import admin
from unfold.admin import ModelAdmin

from apps.guides.models import Guide


@admin.register(Guide)
class GuideAdmin(ModelAdmin):
    list_display = ["employee_no", "name", "store", "role", "phone", "is_active"]
    list_filter = ["is_active", "role", "store__brands", "store__region"]
    search_fields = ["employee_no", "name", "phone", "store__code", "store__name"]
    autocomplete_fields = ["store", "user"]
    list_select_related = ["store"]

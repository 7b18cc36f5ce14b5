"""The engagement admin: HQ edits follow-up rules and the official tags; tasks are read here."""

from django.contrib import admin

from apps.core.admin_scoping import HQWritableModelAdmin, ReadOnlyAdminMixin, ScopedModelAdmin
from apps.engagement.models import FollowUpRule, FollowUpTask, Tag


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(HQWritableModelAdmin):
    list_display = ["brand", "kind", "days", "is_active"]
    list_filter = ["kind", "is_active", "brand"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand"]


@admin.register(Tag)
class TagAdmin(HQWritableModelAdmin):
    list_display = ["name", "brand", "is_official", "created_at"]
    list_filter = ["is_official", "brand"]
    search_fields = ["name"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand"]
    readonly_fields = ["created_by", "created_at"]


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Every follow-up, scoped by role; guides close theirs on their phone pages."""

    list_display = ["due_date", "kind", "membership", "guide", "status", "closed_at"]
    list_filter = ["status", "kind", "due_date"]
    list_select_related = ["membership__customer", "membership__brand", "guide"]
    date_hierarchy = "due_date"
    scope_store_path = "membership__store"
    scope_guide_path = "guide"
    show_full_result_count = False

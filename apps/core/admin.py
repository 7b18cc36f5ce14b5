"""The admin of users, groups, API tokens, login sessions, the outbox and heartbeats."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.core.admin_scoping import ReadOnlyAdminMixin
from apps.core.models import Heartbeat, OutboxMessage, UserSession

admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.unregister(TokenProxy)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_filter = ["groups", "is_staff", "is_superuser", "is_active"]


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(TokenProxy)
class TokenAdmin(BaseTokenAdmin, ModelAdmin):
    pass


@admin.register(Heartbeat)
class HeartbeatAdmin(ModelAdmin):
    list_display = ["source", "created_at"]
    list_filter = ["source"]
    date_hierarchy = "created_at"


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Who is signed in, until when; the session data itself stays hidden."""

    list_display = ["user", "expire_date"]
    fields = ["user", "expire_date"]
    list_select_related = ["user"]
    search_fields = ["=user__username"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Task messages waiting for the broker to come back; empty in normal operation."""

    list_display = ["task", "args", "attempts", "created_at", "last_error"]
    list_filter = ["task"]

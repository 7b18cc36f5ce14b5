"""The admin of users, groups, API tokens, login sessions, the outbox, parked messages and
heartbeats."""

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.core.admin_scoping import ReadOnlyAdminMixin
from apps.core.models import DeadLetter, Heartbeat, OutboxMessage, UserSession
from apps.core.services import dead_letter_discard, dead_letter_retry

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


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Messages that killed their worker too often: HQ retries (once fixed) or discards them."""

    list_display = ["task", "args", "queue", "deliveries", "status", "parked_at", "resolved_by"]
    list_filter = ["status", "task"]
    list_select_related = ["resolved_by"]
    fields = ["task", "task_id", "args", "kwargs", "queue", "deliveries", "error", "status",
              "parked_at", "resolved_at", "resolved_by"]  # fmt: skip
    readonly_fields = fields
    date_hierarchy = "parked_at"
    actions = ["retry", "discard"]

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("core.resolve_deadletter")

    @admin.action(description=gettext_lazy("Retry: send the message again"),
                  permissions=["resolve"])  # fmt: skip
    def retry(self, request, queryset):
        self._resolve(request, queryset, dead_letter_retry, _("%(count)d message(s) sent again."))

    @admin.action(description=gettext_lazy("Discard: never run the message"),
                  permissions=["resolve"])  # fmt: skip
    def discard(self, request, queryset):
        self._resolve(request, queryset, dead_letter_discard, _("%(count)d message(s) discarded."))

    def _resolve(self, request, queryset, service, done_text: str) -> None:
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                service(dead_letter_id=pk, actor=request.user)
            except ValidationError as error:
                messages.error(request, f"{pk}: {' '.join(error.messages)}")
            else:
                done += 1
        if done:
            messages.success(request, done_text % {"count": done})

"""The admin of users, groups, API tokens, login sessions, the outbox, parked messages and
heartbeats."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from apps.core import webhooks
from apps.core.admin_scoping import ReadOnlyAdminMixin
from apps.core.models import (
    DeadLetter,
    Heartbeat,
    OutboxMessage,
    UserSession,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from apps.core.roles import Role, user_has_role
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


class HQOnlyAdminMixin:
    """Rows only HQ operations see and manage (the admin's permissions follow the role)."""

    def _is_hq(self, request) -> bool:
        return user_has_role(request.user, Role.HQ_OPS)

    def has_module_permission(self, request):
        return self._is_hq(request)

    def has_view_permission(self, request, obj=None):
        return self._is_hq(request)

    def has_add_permission(self, request, *args):
        return self._is_hq(request)

    def has_change_permission(self, request, obj=None):
        return self._is_hq(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_hq(request)


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(HQOnlyAdminMixin, ModelAdmin):
    """Where events go. The signing secret is shown once, when the endpoint is added."""

    form = WebhookEndpointForm
    list_display = ["url", "events", "is_active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    readonly_fields = ["failing_since", "disabled_at", "disabled_reason", "created_at"]
    actions = ["rotate_secret"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhooks.webhook_endpoint_update(
                endpoint=obj, url=data["url"], events=data["events"],
                description=data["description"], is_active=data["is_active"],
            )  # fmt: skip
            return
        endpoint, secret = webhooks.webhook_endpoint_create(
            url=data["url"], events=data["events"], description=data["description"]
        )
        obj.pk, obj.secret = endpoint.pk, secret
        self._secret_show(request, endpoint, secret)

    def _secret_show(self, request, endpoint, secret):
        messages.warning(
            request,
            gettext("Signing secret of %(url)s: %(secret)s. Copy it now: it is not shown again.")
            % {"url": endpoint.url, "secret": secret},
        )

    @admin.action(description=_("Give a new signing secret (shown once)"))
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = webhooks.webhook_endpoint_secret_rotate(endpoint=endpoint)
            self._secret_show(request, endpoint, secret)


@admin.register(WebhookEvent)
class WebhookEventAdmin(HQOnlyAdminMixin, ModelAdmin):
    """Events recorded for the endpoints (the outbox); append-only."""

    list_display = ["event_id", "type", "occurred_at"]
    list_filter = ["type"]
    readonly_fields = ["event_id", "type", "occurred_at", "data"]
    fields = readonly_fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(HQOnlyAdminMixin, ModelAdmin):
    """The delivery log: each event to each endpoint, its answer and its next try."""

    list_display = [
        "event_type", "event_id", "endpoint", "status", "attempts", "last_status_code",
        "last_latency_ms", "last_attempt_at", "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = [
        "endpoint", "event_type", "event_id", "event_data", "status", "attempts",
        "last_status_code", "last_latency_ms", "last_error", "last_attempt_at",
        "next_attempt_at", "created_at",
    ]  # fmt: skip
    fields = readonly_fields
    actions = ["send_again"]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("event"))
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description=_("event id"))
    def event_id(self, delivery):
        return delivery.event.event_id

    @admin.display(description=_("object"))
    def event_data(self, delivery):
        return delivery.event.data

    @admin.action(description=_("Send again"), permissions=["send_again"])
    def send_again(self, request, queryset):
        count = webhooks.webhook_delivery_send_again(
            delivery_ids=queryset.values_list("pk", flat=True)
        )
        messages.success(request, gettext("%(count)d deliveries queued again.") % {"count": count})

    def has_send_again_permission(self, request):
        return self._is_hq(request)


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
        self._resolve(
            request, queryset, dead_letter_retry, gettext("%(count)d message(s) sent again.")
        )

    @admin.action(description=gettext_lazy("Discard: never run the message"),
                  permissions=["resolve"])  # fmt: skip
    def discard(self, request, queryset):
        self._resolve(
            request, queryset, dead_letter_discard, gettext("%(count)d message(s) discarded.")
        )

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

"""The guides admin, scoped by role, phones masked; logins made and invited from here."""

from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin_scoping import ScopedHistoryAdmin
from apps.guides.logins import guide_login_sync, guide_set_password_link
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
    actions = ["show_set_password_link", "send_set_password_link"]

    def save_model(self, request, obj, form, change):
        before = (
            Guide.objects.filter(pk=obj.pk).values("is_active", "store_id").get()
            if change
            else {"is_active": False, "store_id": None}
        )
        super().save_model(request, obj, form, change)
        if not change:
            self._show_link(request, obj)
        elif obj.user_id is not None:
            guide_login_sync(guide=obj)
        guide_changed(guide=obj, was_active=before["is_active"], old_store_id=before["store_id"])

    def _show_link(self, request, guide, *, send_sms=False):
        link = guide_set_password_link(
            guide=guide, base_url=request.build_absolute_uri("/"), send_sms=send_sms
        )
        expires = date_format(link.expires_at, "Y-m-d H:i")
        if link.sent_by_sms:
            text = _(
                "%(name)s's login %(username)s: set-password link sent by SMS (until %(expires)s)."
            )
            messages.success(
                request, text % {"name": guide.name, "username": link.username, "expires": expires}
            )
            return
        text = _(
            "%(name)s's login is %(username)s. One-time set-password link (until %(expires)s): "
        )
        messages.success(
            request,
            format_html(
                "{}<a href='{}' data-testid='set-password-link'>{}</a>",
                text % {"name": guide.name, "username": link.username, "expires": expires},
                link.url,
                link.url,
            ),
        )

    @admin.action(description=_("Show a set-password link"), permissions=["change"])
    def show_set_password_link(self, request, queryset):
        for guide in queryset.select_related("user"):
            self._show_link(request, guide)

    @admin.action(description=_("Send a set-password link by SMS"), permissions=["change"])
    def send_set_password_link(self, request, queryset):
        for guide in queryset.select_related("user"):
            if guide.phone:
                self._show_link(request, guide, send_sms=True)
            else:
                messages.warning(request, _("%(name)s has no phone number.") % {"name": guide.name})

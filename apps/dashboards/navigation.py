"""The admin's sidebar, per role (unfold's ``SIDEBAR["navigation"]``, a callable of the request).

One SIDEBAR setting serves every role, so the navigation is worked out per
request: guides and store managers get only their phone pages and the
dashboard; region managers and HQ get the dashboard, the report, and the
models they may view, with the technical ones (users, tokens, schedules,
task results, lockouts, counters) folded into one "System" section.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.commissions.reports import can_read_commission_report
from apps.core.roles import Role, user_has_role

SYSTEM_APPS = {
    "auth", "authtoken", "axes", "core", "django_celery_beat", "django_celery_results",
    "recruiting",
}  # fmt: skip
SYSTEM_MODELS = {"StoreNetworkVersion", "SettlementCutoff"}


def is_field_staff(user) -> bool:
    """A guide or store manager (with their staff record) and nothing wider."""
    return (
        getattr(user, "guide", None) is not None
        and user_has_role(user, Role.GUIDE, Role.STORE_MANAGER)
        and not user_has_role(user, Role.HQ_OPS, Role.REGION_MANAGER)
    )


def _item(title, link, icon) -> dict:
    return {"title": title, "link": link, "icon": icon}


def phone_items() -> list[dict]:
    return [
        _item(_("Dashboard"), reverse("admin:index"), "dashboard"),
        _item(_("My members"), reverse("phone-members"), "group"),
        _item(_("Follow-ups"), reverse("phone-follow-ups"), "task_alt"),
        _item(_("My commission"), reverse("phone-commission"), "payments"),
        _item(_("Recruit"), reverse("phone-recruit"), "qr_code_2"),
    ]


def sidebar_navigation(request) -> list[dict]:
    """Return the sidebar groups for the signed-in user."""
    user = request.user
    if not user.is_authenticated:
        return []
    if is_field_staff(user):
        return [{"title": _("My work"), "items": phone_items()}]
    overview = [_item(_("Dashboard"), reverse("admin:index"), "dashboard")]
    if can_read_commission_report(user):
        overview.append(_item(_("Commission report"), reverse("commission-report"), "bar_chart"))
    overview.append(_item(_("Members"), reverse("phone-members"), "group"))
    overview.append(_item(_("Follow-ups"), reverse("phone-follow-ups"), "task_alt"))
    groups = [{"title": _("Overview"), "items": overview}]
    system = []
    for app in admin.site.get_app_list(request):
        items = []
        for model in app["models"]:
            if not model.get("admin_url"):
                continue
            entry = _item(model["name"], model["admin_url"], "")
            if app["app_label"] in SYSTEM_APPS or model["object_name"] in SYSTEM_MODELS:
                system.append(entry)
            else:
                items.append(entry)
        if items:
            groups.append({"title": app["name"], "items": items, "collapsible": True})
    if system:
        groups.append(
            {"title": _("System"), "items": system, "collapsible": True, "separator": True}
        )
    return groups

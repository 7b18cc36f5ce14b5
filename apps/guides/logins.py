"""Staff logins: every guide and store manager gets an admin login that follows their staff record.

The login is made with the staff record (``guide_create``), in the role group
of the record's role, and with no password: the person sets one through a
one-time link (Django's password-reset token, which stops working once the
password is set, and after ``PASSWORD_RESET_TIMEOUT``). A role change moves
the login to the other role's group; deactivating the record deactivates the
login (unless it serves another role) and ends its sessions and API tokens
at once (``guide_changed``); a move to another store needs nothing, as what
a login sees is worked out from the record's store on each request.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from apps.core.lookup_cache import lookup_cache_forget
from apps.core.roles import Role, user_roles
from apps.core.sms import sms_send
from apps.guides.models import Guide

# The staff role of each kind of record; a login holds exactly one of them.
STAFF_ROLE_OF = {Guide.Role.GUIDE: Role.GUIDE, Guide.Role.STORE_MANAGER: Role.STORE_MANAGER}
STAFF_ROLES = {role.value for role in STAFF_ROLE_OF.values()}
_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


@dataclass(frozen=True)
class SetPasswordLink:
    username: str
    url: str
    expires_at: dt.datetime
    sent_by_sms: bool = False


def _username_for(guide: Guide) -> str:
    base = _USERNAME_UNSAFE.sub("-", guide.employee_no.lower())[:140] or "guide"
    user_model = get_user_model()
    username, number = base, 1
    while user_model.objects.filter(username=username).exists():
        number += 1
        username = f"{base}-{number}"
    return username


@transaction.atomic
def guide_login_sync(*, guide: Guide):
    """Give ``guide`` a login if they have none, and keep its role group and status in step.

    Returns the login. Groups other than the two staff roles (a region
    manager's, say) are left as they are.
    """
    user = guide.user
    if user is None:
        user = get_user_model()(
            username=_username_for(guide), first_name=guide.name[:150], is_staff=True
        )
        user.set_unusable_password()
        user.save()
        Guide.objects.filter(pk=guide.pk).update(user=user)
        lookup_cache_forget(Guide, "employee_no", guide.employee_no)
        guide.user = user
    wanted = STAFF_ROLE_OF[Guide.Role(guide.role)]
    groups = {
        role: Group.objects.get_or_create(name=role.value)[0] for role in STAFF_ROLE_OF.values()
    }
    user.groups.remove(*[group for role, group in groups.items() if role != wanted])
    user.groups.add(groups[wanted])
    if hasattr(user, "_role_names"):
        del user._role_names
    # A login that also serves another role (a region manager who ran a
    # store) stays enabled for it; the inactive record itself reaches nothing
    # (apps.guides.scopes).
    active = guide.is_active or bool(user_roles(user) - STAFF_ROLES)
    changed = []
    if user.is_active != active:
        user.is_active = active
        changed.append("is_active")
    if not user.is_staff:
        user.is_staff = True
        changed.append("is_staff")
    if changed:
        user.save(update_fields=changed)
    return user


def guide_set_password_link(
    *, guide: Guide, base_url: str, send_sms: bool = False
) -> SetPasswordLink:
    """Return a one-time link with which ``guide`` sets their password; text it if asked.

    ``base_url`` is the site's address (``https://scrm.example.com/``). Makes
    the login first when the guide has none.
    """
    user = guide_login_sync(guide=guide)
    path = reverse(
        "staff-set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    link = SetPasswordLink(
        username=user.get_username(),
        url=base_url.rstrip("/") + path,
        expires_at=timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
    )
    if send_sms and guide.phone:
        text = _("Guide SCRM: your login is %(username)s. Set your password: %(url)s") % {
            "username": link.username,
            "url": link.url,
        }
        sms_send(phone=guide.phone, text=text)
        link = SetPasswordLink(link.username, link.url, link.expires_at, sent_by_sms=True)
    return link

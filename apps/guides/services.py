"""Writes to guides."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.access import user_signed_out_everywhere
from apps.guides.events import guide_available, guide_left
from apps.guides.logins import guide_login_sync
from apps.guides.models import Guide

GUIDE_EDITABLE_FIELDS = ("name", "phone", "store", "role", "is_active", "user")


@transaction.atomic
def guide_create(*, employee_no: str, name: str, store, **fields) -> Guide:
    guide = Guide(employee_no=employee_no, name=name, store=store, **fields)
    guide.full_clean()
    guide.save()
    guide_login_sync(guide=guide)
    guide_changed(guide=guide, was_active=False, old_store_id=None)
    return guide


@transaction.atomic
def guide_update(*, guide: Guide, **fields) -> Guide:
    unknown = set(fields) - set(GUIDE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    before = Guide.objects.filter(pk=guide.pk).values("is_active", "store_id").get()
    for field, value in fields.items():
        setattr(guide, field, value)
    guide.full_clean()
    guide.save()
    if guide.user_id is not None:
        guide_login_sync(guide=guide)
    guide_changed(guide=guide, was_active=before["is_active"], old_store_id=before["store_id"])
    return guide


def guide_changed(*, guide: Guide, was_active: bool, old_store_id: int | None) -> None:
    """Announce a guide change, so that members can follow it, and let the login follow it.

    A guide who left (deactivated or moved store) is announced as having
    left; one who became available in a store, as available there. A
    deactivated guide's login loses its sessions and API tokens at once, so
    that reactivating it (``guide_login_sync`` enables and disables the
    login) brings none back: they sign in afresh.
    """
    _staff_login_follow(guide=guide, was_active=was_active)
    moved = old_store_id is not None and guide.store_id != old_store_id
    if was_active and (not guide.is_active or moved):
        guide_left.send(sender=Guide, guide_id=guide.pk)
    if guide.is_active and (not was_active or moved):
        guide_available.send(sender=Guide, store_id=guide.store_id)


def _staff_login_follow(*, guide: Guide, was_active: bool) -> None:
    if guide.user_id is not None and was_active and not guide.is_active:
        user_signed_out_everywhere(guide.user)

"""Writes to guides."""

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.guides.models import Guide

GUIDE_EDITABLE_FIELDS = ("name", "phone", "store", "role", "is_active", "user")


@transaction.atomic
def guide_create(*, employee_no: str, name: str, store, **fields) -> Guide:
    guide = Guide(employee_no=employee_no, name=name, store=store, **fields)
    guide.full_clean()
    guide.save()
    return guide


@transaction.atomic
def guide_update(*, guide: Guide, **fields) -> Guide:
    unknown = set(fields) - set(GUIDE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed." for field in unknown})
    for field, value in fields.items():
        setattr(guide, field, value)
    guide.full_clean()
    guide.save()
    return guide

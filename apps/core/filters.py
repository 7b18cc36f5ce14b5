"""Query-string filters every API list shares."""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField

from apps.core.phones import phone_normalise


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, compared in UTC.

    A moment is sent to the database with the offset it was written with, and
    PostgreSQL refuses offsets beyond ±15:59 (``…T00:00:00+16:00`` would be a
    server error); one whose UTC time falls outside the years 1–9999 is no
    moment at all. Converted to UTC first, the first compares and the second
    is a 400 naming the parameter.
    """

    default_error_messages = {"out_of_range": _("This moment is out of range.")}

    def to_python(self, value):
        try:
            moment = super().to_python(value)
            return None if moment is None else moment.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class PhoneFormField(forms.CharField):
    """A full mainland mobile number in any form the sign-up takes (``+86 138-1234-5678``)."""

    def clean(self, value):
        value = super().clean(value)
        return phone_normalise(value) if value else value


class PhoneFilter(django_filters.CharFilter):
    """Rows of one full phone number, normalised as sign-ups are; never a part of one."""

    field_class = PhoneFormField

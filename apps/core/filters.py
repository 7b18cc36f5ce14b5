"""Query-string filters every API list shares."""

import django_filters
from django import forms

from apps.core.phones import phone_normalise


class PhoneFormField(forms.CharField):
    """A full mainland mobile number in any form the sign-up takes (``+86 138-1234-5678``)."""

    def clean(self, value):
        value = super().clean(value)
        return phone_normalise(value) if value else value


class PhoneFilter(django_filters.CharFilter):
    """Rows of one full phone number, normalised as sign-ups are; never a part of one."""

    field_class = PhoneFormField

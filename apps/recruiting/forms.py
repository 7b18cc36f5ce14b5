"""The public sign-up form: phone first, one-time code, optional name, birthday and location."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.geo import coordinates_are_valid
from apps.core.phones import phone_normalise


class SignUpForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=32)
    code = forms.RegexField(
        label=_("Code from the text message"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits of the code.")},
    )
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False)
    consent = forms.BooleanField(
        label=_("I have read the notice and agree to it."),
        error_messages={"required": _("Please agree to the notice to become a member.")},
    )
    # Filled by the browser's geolocation (WGS-84) when the shopper allows it.
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)

    def clean_phone(self):
        try:
            return phone_normalise(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_birthday(self):
        birthday = self.cleaned_data["birthday"]
        if birthday is None:
            return None
        today = timezone.localdate()
        if birthday > today or birthday < dt.date(today.year - 120, 1, 1):
            raise ValidationError(_("Enter your real birthday."))
        return birthday

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if (latitude is None) != (longitude is None) or (
            latitude is not None and not coordinates_are_valid(latitude, longitude)
        ):
            # A half or broken location is dropped, not held against the shopper.
            cleaned["latitude"] = cleaned["longitude"] = None
        return cleaned

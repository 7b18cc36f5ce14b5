"""Mainland mobile numbers: the one identity that ties channels together."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PHONE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-]")


def phone_normalise(raw: str) -> str:
    """Return ``raw`` as 11 bare digits, stripping ``+86``, spaces and dashes.

    Raises ``ValidationError`` when what is left is not a mainland mobile number.
    """
    phone = _SEPARATORS.sub("", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not PHONE_PATTERN.fullmatch(phone):
        raise ValidationError(_("Enter a mainland mobile number, e.g. 13812345678."))
    return phone

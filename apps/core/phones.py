"""Mainland mobile numbers: the one identity a member has across channels."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def phone_normalise(raw: str) -> str:
    """Return ``raw`` as 11 digits, without ``+86``, spaces or dashes.

    Raises ValidationError when what remains is not a mainland mobile number.
    """
    phone = _SEPARATORS.sub("", str(raw))
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
            break
    else:
        if len(phone) == 13 and phone.startswith("86"):
            phone = phone[2:]
    if not _MOBILE.match(phone):
        raise ValidationError(_("Enter a mainland mobile number, e.g. 13812345678."))
    return phone

import pytest
from django.core.exceptions import ValidationError

from apps.core.phones import phone_normalise


@pytest.mark.parametrize(
    "raw", ["13812345678", "+86 138 1234 5678", "+86-138-1234-5678", "138 1234-5678"]
)
def test_phone_normalise_strips_country_code_spaces_and_dashes(raw):
    assert phone_normalise(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "+1 415 555 0100", "abc"])
def test_phone_normalise_rejects_what_is_not_a_mainland_mobile(raw):
    with pytest.raises(ValidationError):
        phone_normalise(raw)

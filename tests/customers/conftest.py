import pytest

from apps.customers.services import member_join
from tests.factories import BrandFactory, GuideFactory, StoreFactory


@pytest.fixture
def join(django_capture_on_commit_callbacks):
    """Join a member and run the queued assignment, as a worker would."""

    def _join(brand, phone, **kwargs):
        kwargs.setdefault("source", "mini_program")
        with django_capture_on_commit_callbacks(execute=True):
            result = member_join(brand=brand, phone=phone, **kwargs)
        result.membership.refresh_from_db()
        return result.membership

    return _join


@pytest.fixture
def shanghai(db):
    """Brand AUR with two Shanghai stores (People's Square, Lujiazui), two guides each."""
    brand = BrandFactory(code="AUR")
    square = StoreFactory(code="SH-SQ", brands=[brand], latitude=31.2304, longitude=121.4737)
    lujiazui = StoreFactory(code="SH-LJZ", brands=[brand], latitude=31.2397, longitude=121.4998)
    for store in (square, lujiazui):
        GuideFactory(employee_no=f"{store.code}-1", store=store)
        GuideFactory(employee_no=f"{store.code}-2", store=store)
    return brand, square, lujiazui

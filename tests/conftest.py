from types import SimpleNamespace

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.core.roles import Role
from apps.guides.models import Guide
from tests.factories import (
    BrandFactory,
    CustomerFactory,
    GuideFactory,
    MembershipFactory,
    RegionFactory,
    StoreFactory,
    UserFactory,
)


def token_client(user) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def hq_user(db):
    return UserFactory(username="hq-ops", role=Role.HQ_OPS)


@pytest.fixture
def hq_client(hq_user) -> APIClient:
    return token_client(hq_user)


@pytest.fixture
def integration_client(db) -> APIClient:
    return token_client(UserFactory(username="pos-system", role=Role.INTEGRATION, is_staff=False))


@pytest.fixture
def brand(db):
    return BrandFactory(code="AUR", name="Aurora")


@pytest.fixture
def store(brand):
    return StoreFactory(code="SH01", brands=[brand])


@pytest.fixture
def guide_user(store):
    user = UserFactory(username="guide-sh01", role=Role.GUIDE)
    GuideFactory(employee_no="E0001", store=store, user=user)
    return user


@pytest.fixture
def guide_client(guide_user) -> APIClient:
    return token_client(guide_user)


@pytest.fixture
def org(db):
    """Two large regions, three stores, a login per role and a member per guide.

    EAST ⊃ EAST-SH ⊃ {SH01, SH02}; NORTH ⊃ BJ01. ``manager_sh01`` runs SH01,
    ``guide_sh01`` works there, ``region_east`` manages EAST (and so EAST-SH
    below it). Each guide holds one member, ``members[employee_no]``, whose
    phone ends in the guide's number.
    """
    aurora, borealis = BrandFactory(code="AUR", name="Aurora"), BrandFactory(code="BOR")
    east = RegionFactory(code="EAST")
    shanghai = RegionFactory(code="EAST-SH", parent=east)
    north = RegionFactory(code="NORTH")
    stores = {
        "SH01": StoreFactory(code="SH01", region=shanghai, brands=[aurora, borealis]),
        "SH02": StoreFactory(code="SH02", region=shanghai, brands=[aurora]),
        "BJ01": StoreFactory(code="BJ01", region=north, brands=[aurora]),
    }
    users = {
        "hq": UserFactory(username="hq", role=Role.HQ_OPS),
        "region_east": UserFactory(username="region_east", role=Role.REGION_MANAGER),
        "manager_sh01": UserFactory(username="manager_sh01", role=Role.STORE_MANAGER),
        "guide_sh01": UserFactory(username="guide_sh01", role=Role.GUIDE),
        "pos": UserFactory(username="pos", role=Role.INTEGRATION, is_staff=False),
    }
    east.managers.add(users["region_east"])
    guides = {
        "M-SH01": GuideFactory(
            employee_no="M-SH01",
            store=stores["SH01"],
            role=Guide.Role.STORE_MANAGER,
            user=users["manager_sh01"],
            phone="13900000001",
        ),
        "G-SH01": GuideFactory(
            employee_no="G-SH01",
            store=stores["SH01"],
            user=users["guide_sh01"],
            phone="13900000002",
        ),
        "G-SH02": GuideFactory(employee_no="G-SH02", store=stores["SH02"], phone="13900000003"),
        "G-BJ01": GuideFactory(employee_no="G-BJ01", store=stores["BJ01"], phone="13900000004"),
    }
    members = {
        employee_no: MembershipFactory(
            guide=guide, customer=CustomerFactory(phone=f"1381234{number:04d}")
        )
        for number, (employee_no, guide) in enumerate(guides.items(), start=1)
    }
    return SimpleNamespace(
        brands=[aurora, borealis], stores=stores, users=users, guides=guides, members=members
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with no rate-limit counts left by an earlier one."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_store_index():
    """Each test starts with no cached nearest-store index.

    Rolled-back tests reuse ids and the store network version, so an index
    cached by an earlier test could look current.
    """
    from apps.customers.store_index import store_index_forget

    store_index_forget()
    yield
    store_index_forget()


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    """Each test starts with no text messages sent (the locmem SMS backend)."""
    from apps.core import sms

    sms.outbox.clear()


@pytest.fixture(autouse=True, scope="session")
def _test_redis_stopped_at_the_end():
    """Stop the test run's own Redis, if a worker test started one (tests/worker.py)."""
    yield
    from tests.worker import stop_test_redis

    stop_test_redis()

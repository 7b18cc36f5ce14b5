import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.core.roles import Role
from tests.factories import BrandFactory, GuideFactory, StoreFactory, UserFactory


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


@pytest.fixture(autouse=True)
def _fresh_store_index():
    """Each test starts with no cached nearest-store index.

    Rolled-back tests reuse ids and the store network version, so an index
    cached by an earlier test could look current.
    """
    from apps.customers.selectors import _index_cache

    _index_cache.clear()
    yield
    _index_cache.clear()

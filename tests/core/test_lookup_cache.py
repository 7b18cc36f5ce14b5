"""Tokens and codes kept in the cache: fewer queries, and every change seen at once."""

import pytest
from django.contrib.auth.models import Group

from apps.core.access import user_access_end, user_tokens_revoke
from apps.core.roles import Role
from tests.commissions.factories import CommissionPlanFactory
from tests.conftest import token_client
from tests.factories import GuideFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"


@pytest.fixture(autouse=True)
def lookup_cache_on(settings):
    settings.API_LOOKUP_CACHE_SECONDS = 300


@pytest.fixture
def pos_user(db):
    return UserFactory(username="pos-cached", role=Role.INTEGRATION, is_staff=False)


@pytest.fixture
def pos(pos_user):
    return token_client(pos_user)


@pytest.fixture
def guide(store, brand):
    CommissionPlanFactory(brand=brand)
    return GuideFactory(employee_no="E0001", store=store)


def order(number: int, **overrides) -> dict:
    body = {
        "order_no": f"C-{number}",
        "brand": "AUR",
        "store": "SH01",
        "guide": "E0001",
        "amount": "10.00",
        "paid_at": "2026-03-10T18:30:00+08:00",
    }
    body.update(overrides)
    return body


def test_a_second_order_reads_no_token_role_or_code(
    pos, guide, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        first = pos.post(ORDERS_URL, order(1), format="json")

    # Left: is the number stored, does the store carry the brand, the brand's
    # policy, the order, the active webhook endpoints' events (the order's event)
    # and (on SQLite in a test's transaction) its savepoint.
    with django_assert_max_num_queries(7), django_capture_on_commit_callbacks():
        second = pos.post(ORDERS_URL, order(2), format="json")

    assert (first.status_code, second.status_code) == (201, 201)


def test_a_revoked_token_or_a_disabled_login_is_refused_at_once(pos, pos_user, guide):
    assert pos.get("/api/v1/brands/").status_code == 200

    user_tokens_revoke(pos_user)

    assert pos.get("/api/v1/brands/").status_code == 401
    other = UserFactory(username="pos-2", role=Role.INTEGRATION, is_staff=False)
    client = token_client(other)
    assert client.get("/api/v1/brands/").status_code == 200
    user_access_end(other)
    assert client.get("/api/v1/brands/").status_code == 401


def test_a_role_taken_away_is_refused_at_once(pos, pos_user, guide):
    assert pos.post(ORDERS_URL, order(1, amount="0"), format="json").status_code == 400

    pos_user.groups.remove(Group.objects.get(name=Role.INTEGRATION.value))
    assert pos.post(ORDERS_URL, order(1, amount="0"), format="json").status_code == 403

    Group.objects.get(name=Role.INTEGRATION.value).user_set.add(pos_user)
    assert pos.post(ORDERS_URL, order(1, amount="0"), format="json").status_code == 400


def test_a_guide_who_moved_or_left_is_seen_at_once(
    pos, guide, brand, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert pos.post(ORDERS_URL, order(1), format="json").status_code == 201

    guide.store = StoreFactory(code="SH02", brands=[brand])
    guide.save()
    moved = pos.post(ORDERS_URL, order(2), format="json")
    assert moved.status_code == 400
    assert set(moved.data) == {"guide"}

    guide.is_active = False
    guide.save()
    joined = pos.post(
        "/api/v1/members/",
        {"brand": "AUR", "phone": "13912345678", "store": "SH02", "guide": "E0001"},
        format="json",
    )
    assert joined.status_code == 400
    assert set(joined.data) == {"guide"}


def test_an_unknown_code_is_not_kept(pos, guide, store, brand, django_capture_on_commit_callbacks):
    assert set(pos.post(ORDERS_URL, order(1, store="SH03"), format="json").data) == {"store"}

    StoreFactory(code="SH03", brands=[brand])
    GuideFactory(employee_no="E0003", store=store.__class__.objects.get(code="SH03"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = pos.post(ORDERS_URL, order(1, store="SH03", guide="E0003"), format="json")

    assert answer.status_code == 201, answer.data


@pytest.mark.parametrize(
    ("sign_up", "queries"),
    [
        # the brand's privacy policy, is a member, was erased, customer, insert customer,
        # insert membership (+ savepoint)
        ({"latitude": 31.2, "longitude": 121.4}, 8),
        # and: the store carries the brand, its row lock, the binding's event, the
        # active webhook endpoints' events
        ({"store": "SH01", "guide": "E0001"}, 12),
    ],
)
def test_a_sign_up_costs_its_writes_and_a_few_reads(
    pos, guide, sign_up, queries, django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks():
        pos.post("/api/v1/members/", {"brand": "AUR", "phone": "13912345670", **sign_up},
                 format="json")  # fmt: skip

    with django_assert_max_num_queries(queries), django_capture_on_commit_callbacks():
        second = pos.post(
            "/api/v1/members/", {"brand": "AUR", "phone": "13912345671", **sign_up}, format="json"
        )

    assert second.status_code == 201

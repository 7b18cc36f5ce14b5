import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.commissions import services
from apps.commissions.models import CommissionEntry, Order, Refund, Settlement
from apps.core.roles import Role
from tests.commissions.factories import CommissionPlanFactory
from tests.factories import GuideFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDERS_URL = "/api/v1/orders/"
DAY = dt.date(2026, 3, 10)


def order_payload(**overrides):
    payload = {
        "order_no": "POS-0001",
        "brand": "AUR",
        "store": "SH01",
        "guide": "E0001",
        "member_phone": "",
        "amount": "128.50",
        "paid_at": "2026-03-10T18:30:00+08:00",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def plan(brand):
    return CommissionPlanFactory(brand=brand)


@pytest.fixture
def guide_e0001(store):
    return GuideFactory(employee_no="E0001", store=store)


def post_order(client, captured, **overrides):
    with captured(execute=True):
        return client.post(ORDERS_URL, order_payload(**overrides), format="json")


def test_integration_posts_an_order_and_entries_are_written_on_commit(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = integration_client.post(ORDERS_URL, order_payload(), format="json")

    assert response.status_code == 201, response.data
    assert response.data["attribution_reason"] == "order_guide"
    assert len(callbacks) == 1  # the entry task waits for the commit
    assert not CommissionEntry.objects.exists()
    callbacks[0]()
    assert CommissionEntry.objects.count() == 2


def test_same_order_twice_is_200_and_different_body_409(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001
):
    post_order(integration_client, django_capture_on_commit_callbacks)

    again = post_order(integration_client, django_capture_on_commit_callbacks)
    changed = post_order(integration_client, django_capture_on_commit_callbacks, amount="128.51")

    assert again.status_code == 200
    assert changed.status_code == 409
    assert Order.objects.count() == 1
    assert CommissionEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"brand": "NOPE"}, "brand"),
        ({"store": "NOPE"}, "store"),
        ({"guide": "NOPE"}, "guide"),
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"paid_at": "2026-03-10T18:30:00"}, "paid_at"),
        ({"member_phone": "555-1234"}, "member_phone"),
        ({"lines": [{"sku": "A", "quantity": 1, "amount": "100.00"}]}, "lines"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001, overrides, field
):
    response = post_order(integration_client, django_capture_on_commit_callbacks, **overrides)

    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Order.objects.exists()


def test_store_not_carrying_the_brand_is_400(
    integration_client, django_capture_on_commit_callbacks, plan
):
    StoreFactory(code="BJ01", brands=[])

    response = post_order(
        integration_client, django_capture_on_commit_callbacks, store="BJ01", guide=None
    )

    assert response.status_code == 400
    assert "store" in response.data


def test_refunds_are_idempotent_and_capped(
    integration_client, django_capture_on_commit_callbacks, plan, guide_e0001
):
    post_order(integration_client, django_capture_on_commit_callbacks)
    url = f"{ORDERS_URL}POS-0001/refunds/"
    body = {"refund_no": "RF-1", "amount": "100.00", "refunded_at": "2026-03-11T10:00:00+08:00"}

    with django_capture_on_commit_callbacks(execute=True):
        first = integration_client.post(url, body, format="json")
        again = integration_client.post(url, body, format="json")
        too_much = integration_client.post(
            url, {**body, "refund_no": "RF-2", "amount": "28.51"}, format="json"
        )
        unknown = integration_client.post(f"{ORDERS_URL}NOPE/refunds/", body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert too_much.status_code == 400 and "amount" in too_much.data
    assert unknown.status_code == 404
    assert Refund.objects.count() == 1
    assert CommissionEntry.objects.filter(refund__isnull=False).count() == 2


def test_anonymous_is_401_and_a_guide_writing_is_403(anon_client, guide_client, plan):
    assert anon_client.post(ORDERS_URL, order_payload(), format="json").status_code == 401
    assert guide_client.post(ORDERS_URL, order_payload(), format="json").status_code == 403
    assert anon_client.get("/api/v1/settlements/").status_code == 401
    plan_body = {"brand": "AUR", "guide_rate": "1.00", "store_rate": "2.00",
                 "valid_from": "2026-01-01"}  # fmt: skip
    assert guide_client.post("/api/v1/commission-plans/", plan_body).status_code == 403


def test_hq_creates_plans_and_terms(hq_client, brand, store):
    plan_body = {"brand": "AUR", "store": "SH01", "category": "shoes", "guide_rate": "3.50",
                 "store_rate": "6.00", "valid_from": "2026-01-01"}  # fmt: skip

    created = hq_client.post("/api/v1/commission-plans/", plan_body, format="json")
    overlapping = hq_client.post("/api/v1/commission-plans/", plan_body, format="json")
    terms = hq_client.post(
        "/api/v1/settlement-terms/", {"brand": "AUR", "mode": "TN", "hold_days": 7}, format="json"
    )

    assert created.status_code == 201, created.data
    assert created.data["specificity"] == 6
    assert overlapping.status_code == 400 and "valid_from" in overlapping.data
    assert terms.status_code == 201, terms.data
    assert terms.data["hold_days"] == 7


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def two_stores_settled(brand, store, plan, django_capture_on_commit_callbacks):
    """Orders of two guides in SH01 and one in SH02, settled T+1."""
    other_store = StoreFactory(code="SH02", brands=[brand])
    guides = {
        "me": GuideFactory(employee_no="G-ME", store=store,
                           user=UserFactory(username="g-me", role=Role.GUIDE)),
        "colleague": GuideFactory(employee_no="G-CO", store=store),
        "elsewhere": GuideFactory(employee_no="G-EL", store=other_store),
    }  # fmt: skip
    for n, guide in enumerate(guides.values()):
        with django_capture_on_commit_callbacks(execute=True):
            services.order_ingest(
                order_no=f"O{n}", brand=brand, store=guide.store, guide=guide,
                amount=Decimal("100.00"),
                paid_at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC),
            )  # fmt: skip
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    return guides


def test_guides_see_their_own_entries_managers_their_store_hq_all(two_stores_settled, store):
    me = two_stores_settled["me"]
    manager_user = UserFactory(username="m-sh01", role=Role.STORE_MANAGER)
    GuideFactory(employee_no="M-SH01", store=store, role="store_manager", user=manager_user)
    hq = UserFactory(username="hq2", role=Role.HQ_OPS)

    mine = _client(me.user).get("/api/v1/commission-entries/").data
    store_view = _client(manager_user).get("/api/v1/settlements/").data
    everything = _client(hq).get("/api/v1/settlements/").data

    assert {row["guide"] for row in mine["results"]} == {"G-ME"}
    assert {row["store"] for row in store_view["results"]} == {"SH01"}
    assert store_view["count"] == 3  # two guides and the store itself
    assert everything["count"] == 5  # three guides and two stores


def test_list_filters(two_stores_settled, hq_client):
    response = hq_client.get(
        "/api/v1/commission-entries/",
        {"brand": "AUR", "store": "SH02", "status": "settled", "date_from": "2026-03-10",
         "date_to": "2026-03-10"},
    )  # fmt: skip

    assert response.status_code == 200
    assert {(row["store"], row["beneficiary"]) for row in response.data["results"]} == {
        ("SH02", "guide"),
        ("SH02", "store"),
    }


def test_entry_and_settlement_lists_take_a_fixed_number_of_queries(
    two_stores_settled, hq_client, django_assert_num_queries
):
    # token auth + roles, count, page
    with django_assert_num_queries(4):
        hq_client.get("/api/v1/commission-entries/")
    with django_assert_num_queries(4):
        hq_client.get("/api/v1/settlements/")


def test_hq_marks_a_settlement_paid_and_guides_cannot(two_stores_settled, hq_client):
    settlement = Settlement.objects.filter(beneficiary="store").first()
    me = two_stores_settled["me"]
    url = f"/api/v1/settlements/{settlement.pk}/mark-paid/"

    denied = _client(me.user).post(url, {"payout_ref": "X"}, format="json")
    paid = hq_client.post(url, {"payout_ref": "BANK-20260312-1"}, format="json")

    assert denied.status_code == 403
    assert paid.status_code == 200, paid.data
    assert paid.data["status"] == "paid"

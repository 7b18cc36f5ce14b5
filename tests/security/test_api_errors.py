"""Every error the API gives is JSON with a message, whatever the caller sends.

Hostile or odd input (a number past its column, a body nested 10,000 deep or
megabytes long, a moment with a far-fetched UTC offset, a bad Host header)
gets a 4xx in JSON naming what is wrong; an unforeseen failure is a 500 in
JSON, never Django's HTML page.
"""

import json

import pytest

from apps.commissions.models import Order
from apps.core.parsers import MAX_BODY_BYTES, MAX_DEPTH
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

ORDER = {
    "order_no": "POS-1", "brand": "AUR", "store": "SH01", "amount": "10.00",
    "paid_at": "2026-03-10T18:30:00+08:00",
    "lines": [{"sku": "A1", "quantity": 1, "amount": "10.00"}],
}  # fmt: skip


@pytest.fixture
def pos(org):
    client = token_client(org.users["pos"])
    client.raise_request_exception = False
    return client


@pytest.fixture
def hq(org):
    client = token_client(org.users["hq"])
    client.raise_request_exception = False
    return client


def _json(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()


def test_a_quantity_past_its_column_is_a_field_error(pos):
    body = {**ORDER, "lines": [{"sku": "A1", "quantity": 2_147_483_648, "amount": "10.00"}]}

    response = pos.post("/api/v1/orders/", body, format="json")

    assert response.status_code == 400
    assert "quantity" in _json(response)["lines"]["0"]
    assert not Order.objects.exists()


def test_hold_days_past_their_column_is_a_field_error(hq):
    response = hq.post(
        "/api/v1/settlement-terms/", {"brand": "AUR", "mode": "TN", "hold_days": 40_000},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "hold_days" in _json(response)


@pytest.mark.parametrize(
    "body",
    ["[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000],
    ids=["array", "object"],
)
def test_a_body_nested_10000_deep_is_a_400(pos, body):
    response = pos.post("/api/v1/orders/", body, content_type="application/json")

    assert response.status_code == 400
    assert "nested" in _json(response)["detail"]


def test_the_depth_limit_leaves_room_above_the_deepest_real_body(pos):
    too_deep = {**ORDER, "lines": [{"sku": "A1", "quantity": 1, "amount": "10.00", "x": []}]}
    for _level in range(MAX_DEPTH):
        too_deep = {"wrapped": too_deep}

    deep = pos.post("/api/v1/orders/", too_deep, format="json")
    real = pos.post("/api/v1/orders/", ORDER, format="json")

    assert deep.status_code == 400 and "nested" in _json(deep)["detail"]
    assert real.status_code == 201


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * 1024 * 1024])
def test_a_body_over_the_limit_is_a_413_in_json(pos, size):
    body = json.dumps({"brand": "AUR", "phone": "13800000000", "name": "x" * size})

    response = pos.post("/api/v1/members/", body, content_type="application/json")

    assert response.status_code == 413
    assert "too large" in _json(response)["detail"]


@pytest.mark.parametrize(
    ("date_from", "date_to"), [("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31")]
)
def test_the_first_and_last_days_of_the_calendar_filter_members_without_error(
    hq, org, date_from, date_to
):
    response = hq.get("/api/v1/members/", {"date_from": date_from, "date_to": date_to})

    assert response.status_code == 200
    everyone = date_from == "0001-01-01"
    assert _json(response)["count"] == (len(org.members) if everyone else 0)


def test_a_bad_date_is_a_field_error(hq):
    response = hq.get("/api/v1/members/", {"date_from": "2026-13-01"})

    assert response.status_code == 400
    assert "date_from" in _json(response)


def test_an_unforeseen_failure_is_a_500_in_json(hq, monkeypatch):
    from apps.stores import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.StoreViewSet, "list", broken)

    response = hq.get("/api/v1/stores/")

    assert response.status_code == 500
    assert set(_json(response)) == {"detail"}
    assert "boom" not in response.content.decode()


def test_django_s_own_refusals_under_api_are_json_and_pages_stay_html(hq, client):
    bad_host = hq.get("/api/v1/stores/", HTTP_HOST="evil.example")
    no_route = hq.get("/api/v1/members/1.5/")
    page = client.get("/admin/", HTTP_HOST="evil.example")

    assert (bad_host.status_code, set(_json(bad_host))) == (400, {"detail"})
    assert (no_route.status_code, set(_json(no_route))) == (404, {"detail"})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")

"""Every error the API sends reads in the caller's language and says what to do.

Each case is sent twice, with ``Accept-Language: en`` and ``zh-hans``: the
English answer names what was wrong, the Chinese one is Chinese (every
message holds CJK characters), with the same status.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.commissions.factories import OrderFactory
from tests.conftest import token_client

CJK = re.compile(r"[\u4e00-\u9fff]")
ORDER = {
    "order_no": "POS-1", "brand": "AUR", "store": "SH01", "amount": "10.00",
    "paid_at": "2026-03-10T18:30:00+08:00",
}  # fmt: skip


def _messages(body) -> list[str]:
    if isinstance(body, dict):
        return [m for value in body.values() for m in _messages(value)]
    if isinstance(body, list):
        return [m for value in body for m in _messages(value)]
    return [str(body)]


def _bearer(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.get_or_create(user=user)[0]}")
    return client


def _basic(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic aHE6c2VjcmV0")
    return client


# (case, who, method, path, body or query, status, what the English answer says)
CASES = [
    ("unknown query parameter", "hq", "get", "/api/v1/orders/", {"colour": "red"}, 400,
     "Unknown query parameter 'colour'"),
    ("unknown ordering", "hq", "get", "/api/v1/orders/", {"ordering": "colour"}, 400,
     "Choose from: paid_at"),
    ("page size", "hq", "get", "/api/v1/orders/", {"page_size": "9999"}, 400, "1 to 500"),
    ("bad date", "hq", "get", "/api/v1/orders/", {"date_from": "10/03/2026"}, 400, "YYYY-MM-DD"),
    ("filter choice", "hq", "get", "/api/v1/members/", {"status": "lost"}, 400,
     "Choose from: pending, assigned, unassigned"),
    ("no such row", "hq", "get", "/api/v1/orders/NOPE/", None, 404, "no such row"),
    ("refund before its order", "pos", "post", "/api/v1/orders/NOPE/refunds/",
     {"refund_no": "R1", "amount": "1.00", "refunded_at": "2026-03-10T18:30:00+08:00"}, 404,
     "send it before its refunds"),
    ("order conflict", "pos", "post", "/api/v1/orders/", {**ORDER, "order_no": "TAKEN"}, 409,
     "Order TAKEN exists with different content"),
    ("unknown brand code", "pos", "post", "/api/v1/orders/", {**ORDER, "brand": "ZZZ"}, 400,
     "Unknown brand code 'ZZZ'."),
    ("unknown store code", "pos", "post", "/api/v1/orders/", {**ORDER, "store": "ZZZ"}, 400,
     "Unknown store code 'ZZZ'."),
    ("unknown guide", "pos", "post", "/api/v1/orders/", {**ORDER, "guide": "E404"}, 400,
     "Unknown guide employee no. 'E404'."),
    ("naive time", "pos", "post", "/api/v1/orders/", {**ORDER, "paid_at": "2026-03-10T18:30"},
     400, "UTC offset"),
    ("coordinate system", "pos", "post", "/api/v1/members/",
     {"brand": "AUR", "phone": "13812345678", "latitude": 31.2, "longitude": 121.4,
      "coord_system": "GCJ-02"}, 400, "Choose from: wgs84, gcj02, bd09"),
    ("half a location", "pos", "post", "/api/v1/members/",
     {"brand": "AUR", "phone": "13812345678", "latitude": 31.2}, 400, "latitude and longitude"),
    ("phone", "pos", "post", "/api/v1/members/", {"brand": "AUR", "phone": "12345"}, 400,
     "mobile number"),
    ("store kind", "hq", "post", "/api/v1/commission-plans/",
     {"brand": "AUR", "store_kind": "kiosk", "guide_rate": "1", "store_rate": "1",
      "valid_from": "2026-01-01"}, 400, "Choose from: direct, franchise, distributor"),
    ("a guide may not post orders", "guide_sh01", "post", "/api/v1/orders/", ORDER, 403, ""),
    ("no credentials", None, "get", "/api/v1/orders/", None, 401, ""),
    ("another scheme", "basic", "get", "/api/v1/orders/", None, 401, "Token <key>"),
    ("follow-up status", "guide_sh01", "get", "/api/v1/follow-ups/", {"status": "x"}, 400,
     "Choose from: open"),
]  # fmt: skip


@pytest.fixture
def clients(org):
    OrderFactory(order_no="TAKEN", brand=org.brands[0], store=org.stores["SH01"])

    def client_for(who):
        if who is None:
            return APIClient()
        if who == "basic":
            return _basic(org.users["hq"])
        return token_client(org.users[who])

    return client_for


@pytest.mark.parametrize(
    ("who", "method", "path", "data", "status", "says"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_each_error_in_english_and_chinese(clients, who, method, path, data, status, says):
    answers = {}
    for language in ("en", "zh-hans"):
        client = clients(who)
        call = getattr(client, method)
        kwargs = {"format": "json"} if method == "post" else {}
        response = call(path, data, HTTP_ACCEPT_LANGUAGE=language, **kwargs)
        assert response.status_code == status, (language, response.json())
        answers[language] = _messages(response.json())

    assert says in " ".join(answers["en"]), answers["en"]
    untranslated = [m for m in answers["zh-hans"] if not CJK.search(m)]
    assert not untranslated, untranslated


def test_bearer_is_taken_as_a_synonym_of_token(org):
    response = _bearer(org.users["hq"]).get("/api/v1/orders/")

    assert response.status_code == 200


def _write_operations():
    """Every POST, PUT and PATCH of the API, as the schema lists them (none named here)."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch"):
                yield pytest.param(path, method, _request_fields(schema, operation),
                                   id=f"{method.upper()} {path}")  # fmt: skip


def _request_fields(schema, operation) -> list[str]:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return []
    ref = body["schema"].get("$ref", "")
    return list(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]].get("properties", {}))


def _path_for(path: str, org) -> str:
    """Fill a path's parameters with rows of ``org``, else an id no row has (a 404 is an error)."""
    order = OrderFactory(order_no="POS-9", brand=org.brands[0], store=org.stores["SH01"])
    by_resource = {
        "brands": "AUR", "regions": "EAST", "stores": "SH01", "guides": "G-SH01",
        "orders": order.order_no, "members": org.members["G-SH01"].pk,
    }  # fmt: skip
    resource = path.split("/")[3]
    return re.sub(r"\{[^}]+\}", str(by_resource.get(resource, 999999)), path)


@pytest.mark.parametrize(("path", "method", "fields"), list(_write_operations()))
def test_every_write_refuses_a_wrong_body_in_chinese(org, path, method, fields):
    # Given every field of the body sent as something it cannot be
    body = {field: {"junk": [1]} for field in fields} or {"junk": [1]}

    response = getattr(token_client(org.users["hq"]), method)(
        _path_for(path, org), body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code < 500
    if fields:
        assert 400 <= response.status_code < 500, response.json()
    if response.status_code >= 400:
        untranslated = [m for m in _messages(response.json()) if not CJK.search(m)]
        assert not untranslated, untranslated

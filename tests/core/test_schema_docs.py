"""The OpenAPI schema is what an integrator reads instead of the code.

Every check walks the schema as generated (``/api/schema/``), in each
language it is served in, so an endpoint or field added later is held to
the same rule without anyone listing it here.
"""

import re

import pytest
from django.conf import settings
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

WRITE_METHODS = ("post", "put", "patch")
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _schema(language: str) -> dict:
    with translation.override(language):
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module", params=LANGUAGES)
def schema(request):
    return _schema(request.param)


def _undescribed_properties(path: str, spec: dict):
    """Yield ``Component.field.nested`` for every property without a description."""
    if not isinstance(spec, dict):
        return
    for name, prop in (spec.get("properties") or {}).items():
        if not prop.get("description"):
            yield f"{path}.{name}"
        yield from _undescribed_properties(f"{path}.{name}", prop)
    if isinstance(spec.get("items"), dict):
        yield from _undescribed_properties(f"{path}[]", spec["items"])
    if isinstance(spec.get("additionalProperties"), dict):
        yield from _undescribed_properties(f"{path}{{}}", spec["additionalProperties"])
    for combiner in ("allOf", "oneOf", "anyOf"):
        for sub in spec.get(combiner, []):
            yield from _undescribed_properties(path, sub)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", method, operation


def test_every_operation_is_described(schema):
    undescribed = [name for name, _m, op in _operations(schema) if not op.get("description")]

    assert undescribed == []


def test_every_field_of_every_request_and_answer_is_described(schema):
    undescribed = [
        field
        for component, spec in schema["components"]["schemas"].items()
        for field in _undescribed_properties(component, spec)
    ]

    assert undescribed == []


def test_every_parameter_is_described(schema):
    undescribed = [
        f"{name} {parameter['in']}:{parameter['name']}"
        for name, _method, operation in _operations(schema)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]

    assert undescribed == []


def test_every_write_operation_has_an_example_request_and_answer(schema):
    missing = []
    for name, method, operation in _operations(schema):
        if method not in WRITE_METHODS:
            continue
        if "requestBody" in operation:
            bodies = operation["requestBody"]["content"].values()
            if not any(body.get("examples") for body in bodies):
                missing.append(f"{name} request")
        answers = [
            body
            for status, response in operation["responses"].items()
            if status.startswith("2")
            for body in response.get("content", {}).values()
        ]
        if answers and not any(body.get("examples") for body in answers):
            missing.append(f"{name} answer")

    assert missing == []


def test_the_schema_is_served_in_the_callers_language(client):
    english = client.get("/api/schema/?format=json").json()
    chinese = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="zh-hans").json()

    orders = "/api/v1/orders/"
    assert (
        english["paths"][orders]["post"]["description"]
        != (chinese["paths"][orders]["post"]["description"])
    )
    member = chinese["components"]["schemas"]["Membership"]["properties"]
    assert "坐标" in member["coord_system"]["description"]
    by_parameter = client.get("/api/schema/?format=json&lang=zh-hans").json()
    assert (
        by_parameter["paths"][orders]["post"]["description"]
        == (chinese["paths"][orders]["post"]["description"])
    )
    yaml = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "接收已支付订单" in yaml


def test_the_refund_endpoint_has_its_own_description(schema):
    orders = schema["paths"]["/api/v1/orders/"]["post"]["description"]
    refunds = schema["paths"]["/api/v1/orders/{order_no}/refunds/"]["post"]["description"]

    assert refunds != orders


def test_the_api_root_lists_the_report(hq_client):
    root = hq_client.get("/api/v1/").json()

    assert root["reports/commissions"].endswith("/api/v1/reports/commissions/")
    assert "orders" in root and "me" in root


def _descriptions(schema):
    """Yield (where, description) for every operation, parameter and field."""
    for name, _method, operation in _operations(schema):
        yield name, operation.get("description", "")
        for parameter in operation.get("parameters", []):
            yield f"{name} {parameter['name']}", parameter.get("description", "")

    def walk(path, spec):
        if not isinstance(spec, dict):
            return
        if spec.get("description"):
            yield path, spec["description"]
        for key, prop in (spec.get("properties") or {}).items():
            yield from walk(f"{path}.{key}", prop)
        if isinstance(spec.get("items"), dict):
            yield from walk(f"{path}[]", spec["items"])

    for component, spec in schema["components"]["schemas"].items():
        yield from walk(component, spec)


def _lists_only_codes(text: str) -> bool:
    """Tell a choice list whose labels are the codes themselves (``* `csv` - csv``)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(
        re.fullmatch(r"\* `(?P<code>[^`]+)` - (?P=code)", line) for line in lines
    )


def test_every_description_is_in_chinese_for_a_chinese_reader():
    schema = _schema("zh-hans")
    english = [
        where
        for where, text in _descriptions(schema)
        if text
        and not _lists_only_codes(str(text))
        and not any("\u4e00" <= char <= "\u9fff" for char in str(text))
    ]

    assert english == []

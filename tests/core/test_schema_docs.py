"""The OpenAPI schema is what an integrator reads instead of the code."""

import pytest
from drf_spectacular.generators import SchemaGenerator

# Components whose every field is described. Every operation must be; the
# fields of the remaining components are still to be written (see README).
DESCRIBED_COMPONENTS = [
    "OrderList", "OrderDetail", "OrderInputRequest", "OrderLine", "OrderLineInputRequest",
    "Refund", "RefundInputRequest", "CommissionReport", "CommissionReportRow",
    "CommissionReportTotals",
]  # fmt: skip


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_is_described(schema):
    undescribed = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not operation.get("description")
    ]

    assert not undescribed


def test_the_refund_endpoint_has_its_own_description(schema):
    orders = schema["paths"]["/api/v1/orders/"]["post"]["description"]
    refunds = schema["paths"]["/api/v1/orders/{order_no}/refunds/"]["post"]["description"]

    assert "refund" in refunds and refunds != orders


@pytest.mark.parametrize("component", DESCRIBED_COMPONENTS)
def test_every_field_of_the_order_and_report_shapes_is_described(schema, component):
    properties = schema["components"]["schemas"][component]["properties"]

    assert [name for name, spec in properties.items() if not spec.get("description")] == []


def test_the_api_root_lists_the_report(hq_client):
    root = hq_client.get("/api/v1/").json()

    assert root["reports/commissions"].endswith("/api/v1/reports/commissions/")
    assert "orders" in root and "me" in root

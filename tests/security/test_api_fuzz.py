"""Schemathesis against the API's own OpenAPI schema, in-process, as HQ and as a guide.

Every operation of ``/api/schema/`` gets generated requests, valid and
invalid, with the caller's token. Each response must not be a server error
and must match the schema: a documented status code, the documented content
type and a body of the documented shape. Path parameters are tried as
generated and once more naming a seeded row, so the detail, update and
action views run on real objects too.

Examples are few and derandomized: the same requests every run, in seconds.
"""

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.commissions import services
from apps.engagement.services import follow_up_create_manual, tag_add
from apps.incentives.models import BonusPlan, PointsAccount, SalesTarget
from tests.commissions.factories import (
    CommissionEntryFactory,
    CommissionPlanFactory,
    OrderFactory,
    SettlementFactory,
    SettlementTermsFactory,
)
from tests.factories import MembershipFactory, RegionFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz_config(*, max_examples: int, coverage: bool) -> schemathesis.Config:
    """Valid and invalid requests, the same ones every run.

    The coverage phase adds valid boundary values of every field (most of the
    run's requests); the stateful phase is off, as the seeded rows stand in
    for the links between operations.
    """
    return schemathesis.Config.from_dict(
        {
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                "stateful": {"enabled": False},
                "coverage": {
                    "enabled": coverage,
                    "unexpected-methods": [],
                    "generation": {"mode": "positive"},
                },
            },
        }
    )


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler inside the test's transaction.

    The handler closes "old" connections around each request, which would
    close the connection holding the test's open transaction; Django's test
    client leaves these signals out in the same way.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(store, brand, guide_user):
    """One row behind every path parameter: the guide's member, order, entry, settlement,
    adjustment."""
    guide = guide_user.guide
    member = MembershipFactory(guide=guide)
    entry = CommissionEntryFactory(guide=guide, business_date=dt.date(2026, 3, 10))
    settlement = SettlementFactory(guide=guide, entries_total=Decimal("3.00"))
    plan = CommissionPlanFactory(brand=brand)
    SettlementTermsFactory(brand=brand)
    StoreFactory(code="BJ01", region=RegionFactory(code="NORTH"), brands=[brand])
    order = OrderFactory(brand=brand, store=store, attributed_guide=guide)
    follow_up = follow_up_create_manual(
        membership=member, title="回访", due_date=dt.date(2026, 3, 10), user=None
    )
    member_tag = tag_add(membership=member, name="VIP", user=None)
    adjustment, _created = services.commission_adjustment_create(
        reference="ADJ-SEED", brand=brand, beneficiary="guide", guide=guide,
        amount=Decimal("1.00"), reason="seeded", actor=UserFactory(username="seed-hq"),
    )  # fmt: skip
    target = SalesTarget.objects.create(
        brand=brand, beneficiary="guide", guide=guide, store=store, month=dt.date(2026, 3, 1),
        amount=Decimal("1000.00"),
    )  # fmt: skip
    bonus_plan = BonusPlan.objects.create(
        name="seed", brand=brand, beneficiary="guide", basis="net_sales",
        brackets=[{"from": "0", "to": None, "rate": "1"}], valid_from=dt.date(2026, 1, 1),
        specificity=1,
    )  # fmt: skip
    points = PointsAccount.objects.create(guide=guide, brand=brand)
    return {
        "code": {"brands": brand.code, "regions": store.region.code, "stores": store.code},
        "employee_no": guide.employee_no,
        "order_no": order.order_no,
        "id": {
            "members": member.pk,
            "commission-entries": entry.pk,
            "commission-plans": plan.pk,
            "commission-adjustments": adjustment.pk,
            "settlements": settlement.pk,
            "follow-ups": follow_up.pk,
            "tags": member_tag.tag_id,
            "member-tags": member_tag.pk,
            "targets": target.pk,
            "bonus-plans": bonus_plan.pk,
            "points": points.pk,
        },
    }


def seeded_path_parameters(case, seeded) -> dict | None:
    """Path parameters naming the seeded row of ``case``'s collection, or None."""
    if not case.path_parameters:
        return None
    collection = case.operation.path.removeprefix("/api/v1/").split("/")[0]
    values = {}
    for name in case.path_parameters:
        value = seeded[name]
        values[name] = value[collection] if isinstance(value, dict) else value
    return values


def call_and_validate(case, seeded, token: str):
    headers = {"Authorization": f"Token {token}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    real_row = seeded_path_parameters(case, seeded)
    if real_row is not None:
        case.path_parameters = real_row
        case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.fixture
def hq_token(hq_user):
    return Token.objects.get_or_create(user=hq_user)[0].key


@pytest.fixture
def guide_token(guide_user):
    return Token.objects.get_or_create(user=guide_user)[0].key


# Loaded while the module is collected, so that each operation becomes a test
# of its own; reading the schema touches no database.
hq_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", get_wsgi_application(), config=fuzz_config(max_examples=8, coverage=True)
)
# A guide may write almost nothing: random requests reach the same 403s and
# scoped reads, so the guide run is shorter and skips the boundary values.
guide_schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", get_wsgi_application(), config=fuzz_config(max_examples=5, coverage=False)
)


@hq_schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_as_hq(case, wsgi_app, seeded, hq_token):
    call_and_validate(case, seeded, hq_token)


@guide_schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_as_a_guide(case, wsgi_app, seeded, guide_token):
    call_and_validate(case, seeded, guide_token)

"""``manage.py bench load``: what it sends is accepted, and its drain sees the work through."""

import io
import json
import random
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.bench.load import PHONE_PREFIX, LoadMix, load_work_outstanding
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import GuideFactory, PendingMembershipFactory, StoreFactory
from tests.worker import broker_url_configured

RUN = "t1"


@pytest.fixture
def t0_brand(brand, store):
    """The fixture brand settles T+0; its store has two guides and a member ordering."""
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    GuideFactory(store=store)
    GuideFactory(store=store)
    PendingMembershipFactory(brand=brand, customer__phone="13800000001")
    return brand


@pytest.mark.django_db
def test_each_request_of_the_mix_is_accepted_and_its_work_then_done(
    t0_brand, integration_client, django_capture_on_commit_callbacks
):
    mix = LoadMix(run=RUN, order_share=0.5)
    rng = random.Random(7)
    requests = [mix.request(rng, client=1, number=number) for number in range(12)]
    kinds = {kind for kind, _path, _body in requests}
    assert kinds == {"signup", "order"}

    # When the API takes every request, its work still waiting for a worker
    with django_capture_on_commit_callbacks(execute=False) as queued:
        statuses = [
            integration_client.post(path, body, content_type="application/json").status_code
            for _kind, path, body in requests
        ]
    assert statuses == [201] * 12
    pending, unsettled = load_work_outstanding(run_tag=RUN)
    signups = sum(kind == "signup" for kind, _path, _body in requests)
    assert (pending, unsettled) == (signups, 12 - signups)

    # Then once the queued work ran, nothing is outstanding
    for callback in queued:
        callback()
    assert load_work_outstanding(run_tag=RUN) == (0, 0)


@pytest.mark.django_db
def test_sign_ups_use_the_load_prefix_and_orders_the_t0_brand(t0_brand):
    StoreFactory(code="OTHER")  # carries another brand: never in the orders
    mix = LoadMix(run=RUN, order_share=1.0)

    kind, path, body = mix.request(random.Random(1), client=3, number=4)

    order = json.loads(body)
    assert (kind, path, order["brand"], order["order_no"]) == (
        "order", "/api/v1/orders/", t0_brand.code, f"LOAD-{RUN}-3-4"
    )  # fmt: skip
    assert Decimal(order["amount"]) == sum(Decimal(line["amount"]) for line in order["lines"])
    _kind, _path, body = LoadMix(run=RUN, order_share=0.0).request(
        random.Random(1), client=3, number=4
    )
    assert json.loads(body)["phone"] == f"{PHONE_PREFIX}03000004"


@pytest.mark.broker
@pytest.mark.skipif(not broker_url_configured(), reason="no broker and no embedded Redis")
@pytest.mark.django_db(transaction=True)
def test_a_short_load_with_a_killed_worker_runs_end_to_end_and_drains(
    tmp_path, monkeypatch, settings
):
    # The stack's own var/ (an embedded Redis of its own, unless one is configured).
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    settings.VAR_DIR = tmp_path
    # Tests empty the database without signals, so a lookup cache in a Redis shared with
    # earlier tests could hand the stack ids of rows since deleted: the stack reads codes afresh.
    monkeypatch.setenv("API_LOOKUP_CACHE_SECONDS", "0")
    # On a configured Redis no supervisor hands the killed worker's messages back: the
    # broker does, once they are unacknowledged past the visibility timeout (35 min in
    # production). Short windows, as a test of a lost host uses, bring them back in seconds.
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "8")
    monkeypatch.setenv("CELERY_UNACKED_SWEEP_SECONDS", "1")
    out = io.StringIO()

    call_command(
        "bench", "load", "--seconds", "3", "--clients", "2", "--kill-worker",
        "--anchor-seconds", "2", stdout=out,
    )  # fmt: skip

    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["bench"] == "load"
    assert summary["requests"] == summary["signups"] + summary["orders"] > 0
    assert summary["errors"] == 0
    assert summary["worker_killed"] is True
    assert summary["drain_seconds"] is not None, summary
    assert summary["outstanding"] == [0, 0]
    # The bare insert endpoint answered under the same server, and the ratio is of the two.
    assert summary["anchor_rps"] > 0
    assert summary["ratio"] == pytest.approx(summary["rps"] / summary["anchor_rps"], rel=0.05)

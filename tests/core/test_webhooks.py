"""Events pushed to HQ's endpoints: recorded with the change, signed, retried, given up on.

A tiny HTTP server on loopback plays the receiver: it checks every
signature, fails the first two deliveries and records what it accepted.
"""

import datetime as dt
import hashlib
import hmac
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone

from apps.commissions.models import Settlement
from apps.commissions.services import order_ingest, settlement_mark_paid
from apps.core.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from apps.core.webhooks import (
    webhook_deliveries_send,
    webhook_delivery_send_again,
    webhook_endpoint_create,
)
from apps.customers.models import Membership
from apps.customers.services import member_join, membership_reassign
from apps.dashboards.overview import hq_dashboard_context
from tests.commissions.factories import SettlementFactory

ALL_EVENTS = [
    "member.assigned", "member.reassigned", "order.attributed", "settlement.closed",
    "settlement.paid",
]  # fmt: skip


class Receiver:
    """Accepts correctly signed posts, after refusing the first ``fail_first`` with a 500."""

    def __init__(self, secret: str, fail_first: int = 2):
        self.secret, self.fail_first = secret, fail_first
        self.requests, self.accepted, self.bad_signatures = 0, [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                if not receiver.signature_ok(self.headers["X-Signature"], body):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.requests <= receiver.fail_first:
                    self.send_response(500)
                else:
                    receiver.accepted.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signature_ok(self, header: str, body: bytes) -> bool:
        parts = dict(part.split("=", 1) for part in header.split(","))
        expected = hmac.new(
            self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts["v1"])


@pytest.fixture
def receiver(db, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # retry at once: no sleeping in tests
    endpoint, secret = webhook_endpoint_create(url="http://placeholder.invalid/", events=ALL_EVENTS)
    receiver = Receiver(secret)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url)
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_each_change_reaches_the_receiver_once_signed_after_two_failures(
    org, receiver, django_capture_on_commit_callbacks
):
    aurora, sh01, guide = org.brands[0], org.stores["SH01"], org.guides["G-SH01"]
    settlement = SettlementFactory(
        guide=guide,
        brand=aurora,
        status=Settlement.Status.SETTLED,
        entries_total=Decimal("5.00"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        joined = member_join(
            brand=aurora, phone="13911112222", source=Membership.Source.MINI_PROGRAM,
            store=sh01, guide=guide,
        ).membership  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        membership_reassign(membership=joined, guide=org.guides["M-SH01"])
    with django_capture_on_commit_callbacks(execute=True):
        order_ingest(
            order_no="POS-9", brand=aurora, store=sh01, guide=guide, member_phone="13911112222",
            amount=Decimal("88.00"), paid_at=timezone.now(), lines=[],
        )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        settlement_mark_paid(settlement=settlement, payout_ref="BANK-1")

    types = [event["type"] for event in receiver.accepted]
    assert receiver.bad_signatures == 0
    assert sorted(types) == sorted(
        ["member.assigned", "member.reassigned", "order.attributed", "settlement.paid"]
    )
    assert len({event["id"] for event in receiver.accepted}) == len(receiver.accepted)
    assert receiver.requests == len(receiver.accepted) + 2
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.SUCCEEDED).exists()
    reassigned = next(e for e in receiver.accepted if e["type"] == "member.reassigned")
    assert reassigned["data"] == {
        **reassigned["data"], "member_id": joined.pk, "guide": "M-SH01",
        "previous_guide": "G-SH01", "reason": "manual",
    }  # fmt: skip
    paid = next(e for e in receiver.accepted if e["type"] == "settlement.paid")
    assert paid["data"]["total"] == "5.00" and paid["data"]["payout_ref"] == "BANK-1"


def test_a_rolled_back_change_sends_nothing(org, receiver, django_capture_on_commit_callbacks):
    membership = org.members["G-SH01"]

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        membership_reassign(membership=membership, guide=org.guides["M-SH01"])
        raise RuntimeError("the caller's transaction fails after the move")

    assert not WebhookEvent.objects.exists()
    assert receiver.requests == 0


def test_no_endpoint_no_event(org):
    membership_reassign(membership=org.members["G-SH01"], guide=org.guides["M-SH01"])

    assert not WebhookEvent.objects.exists()


def test_a_failure_waits_longer_each_time_then_gives_up_and_disables_the_endpoint(org, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    endpoint, _secret = webhook_endpoint_create(
        url="http://127.0.0.1:9/nothing-listens", events=["member.reassigned"]
    )
    membership_reassign(membership=org.members["G-SH01"], guide=org.guides["M-SH01"])
    delivery = WebhookDelivery.objects.get()

    webhook_deliveries_send()
    delivery.refresh_from_db()
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    webhook_deliveries_send()
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - delivery.last_attempt_at

    assert delivery.attempts == 2 and delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.last_error and delivery.last_status_code is None
    assert dt.timedelta(seconds=29) < first_wait <= dt.timedelta(seconds=31)
    assert dt.timedelta(seconds=59) < second_wait <= dt.timedelta(seconds=61)

    day_ago = timezone.now() - dt.timedelta(hours=24, minutes=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=day_ago, next_attempt_at=timezone.now()
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=day_ago)
    webhook_deliveries_send()
    delivery.refresh_from_db()
    endpoint.refresh_from_db()

    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.next_attempt_at is None
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert hq_dashboard_context(org.users["hq"])["webhooks_disabled"] == [endpoint]

    webhook_delivery_send_again(delivery_ids=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING


def test_hq_adds_an_endpoint_in_the_admin_and_sees_its_secret_once(org, client):
    client.force_login(org.users["hq"])

    response = client.post(
        "/admin/core/webhookendpoint/add/",
        {"url": "https://hooks.example.com/scrm", "description": "ERP",
         "events": ["order.attributed", "settlement.paid"], "is_active": "on"},
        follow=True,
    )  # fmt: skip
    endpoint = WebhookEndpoint.objects.get()
    change_page = client.get(f"/admin/core/webhookendpoint/{endpoint.pk}/change/")

    assert endpoint.events == ["order.attributed", "settlement.paid"]
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.content.decode()
    assert endpoint.secret not in change_page.content.decode()


def test_only_hq_opens_the_webhook_admin(org, client):
    client.force_login(org.users["region_east"])

    assert client.get("/admin/core/webhookendpoint/").status_code == 403
    assert client.get("/admin/core/webhookdelivery/").status_code == 403


def test_hq_sends_a_delivery_again_from_the_log(org, client):
    endpoint, _secret = webhook_endpoint_create(
        url="http://127.0.0.1:9/", events=["member.reassigned"]
    )
    membership_reassign(membership=org.members["G-SH01"], guide=org.guides["M-SH01"])
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None
    )
    client.force_login(org.users["hq"])

    client.post(
        "/admin/core/webhookdelivery/",
        {"action": "send_again", "_selected_action": [delivery.pk]},
    )

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING

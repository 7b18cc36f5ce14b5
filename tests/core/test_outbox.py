"""With the broker (and the Redis cache) down, saved work gets its normal answer and runs later.

An order or a sign-up commits, then its task message cannot be sent: the
caller still gets 201, the message waits in the outbox, and draining the
outbox once the broker is back does the work. The process-level version with
a real Redis stopped mid-run is ``tests/hardening/test_outage.py``.
"""

from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from celery import current_app
from kombu.exceptions import OperationalError as BrokerError

from apps.commissions.models import CommissionEntry, Order
from apps.core.models import OutboxMessage
from apps.core.tasking import outbox_drain
from apps.customers.models import Membership
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory

pytestmark = pytest.mark.django_db

ORDER = {
    "order_no": "POS-1", "brand": "AUR", "store": "SH01", "guide": "E0001",
    "amount": "128.50", "paid_at": "2026-03-10T18:30:00+08:00",
}  # fmt: skip
SIGN_UP = {"brand": "AUR", "latitude": 31.2304, "longitude": 121.4737}


@contextmanager
def broker_down():
    """Every send fails as Celery's does when Redis refuses the connection."""
    refused = BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    with mock.patch("celery.app.task.Task.apply_async", side_effect=refused):
        yield


class _DownCache:
    """A cache whose every call fails as the Redis cache's do with Redis down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


@pytest.fixture
def shop(brand, store, guide_user):
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    return store


def test_an_order_saved_while_the_broker_is_down_answers_201_and_is_written_later(
    shop, integration_client, django_capture_on_commit_callbacks
):
    # When an integration posts an order while the broker refuses messages
    with broker_down(), django_capture_on_commit_callbacks(execute=True):
        first = integration_client.post("/api/v1/orders/", ORDER, format="json")
        retry = integration_client.post("/api/v1/orders/", ORDER, format="json")

    # Then it hears the truth: saved (and the same again on retry), its work kept
    assert (first.status_code, retry.status_code) == (201, 200)
    assert Order.objects.count() == 1
    assert not CommissionEntry.objects.exists()
    assert list(OutboxMessage.objects.values_list("task", flat=True)) == [
        "commissions.order_entries_write"
    ]

    # And when the broker is back, the drain writes the entries, with no other traffic
    assert outbox_drain() == 1
    assert CommissionEntry.objects.filter(order__order_no="POS-1").count() == 2
    assert not OutboxMessage.objects.exists()


def test_sign_ups_with_redis_down_answer_201_and_one_run_assigns_them_later(
    shop, integration_client, settings, django_capture_on_commit_callbacks
):
    # Given coalesced runs, whose "a run is queued" key and the rate limit live in Redis
    settings.TASK_COALESCING = True
    down = _DownCache()

    # When members sign up while Redis (broker and cache) is down
    with (
        mock.patch("apps.core.tasking.cache", down),
        mock.patch("apps.core.throttling.cache", down),
        broker_down(),
        django_capture_on_commit_callbacks(execute=True),
    ):
        answers = [
            integration_client.post(
                "/api/v1/members/", {**SIGN_UP, "phone": f"1390000000{n}"}, format="json"
            ).status_code
            for n in range(3)
        ]

    # Then each is saved and answered, and one run of their assignment is kept
    assert answers == [201, 201, 201]
    assert Membership.objects.filter(assignment_status="pending").count() == 3
    assert list(OutboxMessage.objects.values_list("task", "coalesce_key")) == [
        ("customers.memberships_assign_waiting", "customers:assign-waiting-queued")
    ]

    # And the drain assigns all three
    outbox_drain()
    assert Membership.objects.filter(assignment_status="assigned").count() == 3


def test_a_drain_stops_while_the_broker_still_refuses_and_resumes_later(shop):
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task="core.heartbeat", args=[f"outbox-{n}"]) for n in range(3)
    )

    with broker_down():
        assert outbox_drain() == 0
    still = list(OutboxMessage.objects.values_list("attempts", flat=True))
    sent = outbox_drain()

    assert still == [1, 0, 0]
    assert sent == 3
    assert not OutboxMessage.objects.exists()


def test_a_message_for_a_task_no_longer_declared_is_kept_and_skipped(shop):
    OutboxMessage.objects.create(task="core.gone_in_a_rename", args=[])
    OutboxMessage.objects.create(task="core.heartbeat", args=["after"])

    sent = outbox_drain()

    assert sent == 1
    assert list(OutboxMessage.objects.values_list("task", flat=True)) == ["core.gone_in_a_rename"]


def test_the_drain_runs_on_beat_and_at_every_worker_start():
    from django_celery_beat.models import PeriodicTask

    from apps.core.tasks import OUTBOX_DRAIN, _drain_outbox_on_start

    drain = PeriodicTask.objects.get(task=OUTBOX_DRAIN)
    with mock.patch.object(current_app.tasks[OUTBOX_DRAIN], "delay") as queued:
        _drain_outbox_on_start(sender=None)

    assert drain.interval.every == 30 and drain.enabled
    assert queued.call_count == 1

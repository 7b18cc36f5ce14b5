"""Joining at the till, end to end on PostgreSQL with a real worker: every ordering, one credit.

A shopper pays, then scans the recruiting guide's QR code. The POS posts
the order and the sign-up reaches the members API in either order, and the
worker handles the first one's work before the second arrives or only after
both: each of the four orderings credits the recruiting guide exactly once.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.commissions.models import CommissionEntry, Order
from apps.commissions.selectors import ledger_verify
from apps.customers.models import Membership
from config.celery_app import app as celery_app
from tests.commissions.factories import CommissionPlanFactory
from tests.conftest import token_client
from tests.factories import BrandFactory, GuideFactory, StoreFactory, UserFactory
from tests.worker import broker_url_configured, celery_worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not broker_url_configured(),
        reason="needs PostgreSQL and CELERY_BROKER_URL: a real worker on committed rows",
    ),
]

QR_CODES = {
    "guide-qr": {"store": "SH01", "guide": "E-QR"},
    "store-qr": {"store": "SH01"},  # the worker binds: the store's one guide is the recruiter
}
# (order posted first, the worker runs between the two posts, the QR code)
ORDERINGS = [
    (order_first, worker_between, qr_code)
    for order_first in (True, False)
    for worker_between in (True, False)
    for qr_code in QR_CODES
]


@pytest.fixture
def till(transactional_db):
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="SH01", brands=[brand])
    recruiter = GuideFactory(employee_no="E-QR", store=store)
    CommissionPlanFactory(
        brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"),
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    client = token_client(UserFactory(username="pos", role="integration", is_staff=False))
    return client, recruiter


class Shopper:
    """One shopper of one ordering: their phone, their order, the two posts."""

    def __init__(self, number: int, client, qr_code: dict):
        self.phone, self.order_no = f"1391234{number:04d}", f"TILL-{number}"
        self.client, self.qr_code = client, qr_code
        self.paid_at = timezone.now() - dt.timedelta(seconds=20)  # paid, then scanned the code

    def post_order(self):
        response = self.client.post(
            "/api/v1/orders/",
            {"order_no": self.order_no, "brand": "AUR", "store": "SH01", "amount": "100.00",
             "member_phone": self.phone, "paid_at": self.paid_at.isoformat()},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.data

    def post_sign_up(self):
        response = self.client.post(
            "/api/v1/members/", {"brand": "AUR", "phone": self.phone, **self.qr_code},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.data

    def order_written(self) -> bool:
        return CommissionEntry.objects.filter(order__order_no=self.order_no).exists()

    def member_bound(self) -> bool:
        return (
            Membership.objects.filter(customer__phone=self.phone)
            .exclude(assignment_status="pending")
            .exists()
        )

    def steps(self, order_first: bool):
        steps = [(self.post_order, self.order_written), (self.post_sign_up, self.member_bound)]
        return steps if order_first else steps[::-1]

    def outcome(self) -> tuple:
        order = Order.objects.get(order_no=self.order_no)
        guide_shares = CommissionEntry.objects.filter(
            order=order, beneficiary="guide", refund__isnull=True
        )
        return (
            order.attributed_guide.employee_no if order.attributed_guide else None,
            order.attribution_reason,
            [(entry.guide.employee_no, entry.amount) for entry in guide_shares],
            CommissionEntry.objects.filter(order=order, beneficiary="store").count(),
        )


def test_every_ordering_credits_the_recruiter_exactly_once(till):
    client, recruiter = till
    shoppers = {
        ordering: Shopper(number, client, QR_CODES[ordering[2]])
        for number, ordering in enumerate(ORDERINGS)
    }

    with celery_worker(concurrency=2, start=False) as worker:
        # Both posts in before any worker runs: the messages wait in the queue.
        for (order_first, worker_between, _qr), shopper in shoppers.items():
            if not worker_between:
                for send, _done in shopper.steps(order_first):
                    send()
        worker.start()
        # The worker handles the first post's work before the second is sent.
        for (order_first, worker_between, _qr), shopper in shoppers.items():
            if worker_between:
                (send_first, first_done), (send_second, _done) = shopper.steps(order_first)
                send_first()
                wait_for(first_done, timeout=30)
                send_second()
        wait_for(lambda: _queue_drained(worker), timeout=60)
        # Drained means nothing waits and nothing taken is unacknowledged.
        wait_for(lambda: all(s.member_bound() for s in shoppers.values()), timeout=30)

    outcomes = {ordering: shopper.outcome() for ordering, shopper in shoppers.items()}
    expected = ("E-QR", "bound_at_till", [("E-QR", Decimal("3.00"))], 1)
    assert outcomes == dict.fromkeys(ORDERINGS, expected)
    assert ledger_verify(grace=dt.timedelta(0)).breaches == []


def _queue_drained(worker) -> bool:
    """Nothing waits in the worker's queue and nothing taken from it is unacknowledged.

    The broker's ``unacked`` hash is shared by every queue of the database: other
    tests' killed workers may have left messages there, so only this queue's count.
    """
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        queue = worker.queue.encode()
        taken = sum(1 for message in client.hvals("unacked") if queue in message)
        return client.llen(worker.queue) == 0 and taken == 0

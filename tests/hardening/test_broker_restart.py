"""Redis restarts empty with tasks queued: the sweeper and the next settlement close the gap.

The test runs its own ``redis-server`` without persistence on a free port (the
machine's shared Redis is left alone), queues real messages in it, kills and
restarts it, and only then starts a worker.
"""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.commissions import services
from apps.commissions.calculations import commission_amount
from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.tasks import settlement_run_nightly
from apps.customers.models import AssignmentEvent, Membership
from apps.customers.services import member_join
from apps.customers.tasks import STALE_PENDING_SECONDS, pending_memberships_sweep_task
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import BrandFactory, GuideFactory, StoreFactory
from tests.hardening.faults import assert_ledger_ok, private_redis, requires_postgres_and_broker
from tests.worker import celery_worker, wait_for

pytestmark = [*requires_postgres_and_broker, pytest.mark.django_db(transaction=True)]

HERE = {"latitude": 31.2304, "longitude": 121.4737}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAID_AT = dt.datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
DAY = PAID_AT.date()
MEMBERS, ORDERS = 12, 8


def test_messages_lost_with_a_restarted_redis_are_recovered():
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ONE", brands=[brand], **HERE)
    guides = [GuideFactory(employee_no=f"G{n}", store=store) for n in range(3)]
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    joined_at = timezone.now() - dt.timedelta(seconds=STALE_PENDING_SECONDS + 60)

    with private_redis() as redis, celery_worker(broker_url=redis.url, start=False) as worker:
        # Given members who joined and orders (one refunded) whose tasks sit in Redis
        for n in range(MEMBERS):
            member_join(
                brand=brand, phone=f"1390000{n:04d}", source="h5", joined_at=joined_at, **HERE
            )
        orders = []
        for n in range(ORDERS):
            order, _created = services.order_ingest(
                order_no=f"POS-{n}", brand=brand, store=store, guide=guides[n % 3],
                amount=Decimal("88.88") + n, paid_at=PAID_AT + dt.timedelta(minutes=n),
            )  # fmt: skip
            orders.append(order)
        services.refund_create(
            order=orders[0], refund_no="RF-0", amount=orders[0].amount,
            refunded_at=PAID_AT + dt.timedelta(hours=1),
        )  # fmt: skip
        assert sum(map(redis.queue_length, worker.queues)) == MEMBERS + ORDERS + 1

        # When Redis dies and comes back empty, and only then a worker starts
        redis.kill()
        redis.start()
        assert sum(map(redis.queue_length, worker.queues)) == 0
        worker.start()
        assert Membership.objects.filter(assignment_status="pending").count() == MEMBERS
        assert not CommissionEntry.objects.exists()

        # Then the scheduled sweep and nightly run put everything right
        pending_memberships_sweep_task.delay()
        settlement_run_nightly.delay((DAY + dt.timedelta(days=1)).isoformat())
        wait_for(
            lambda: (
                not Membership.objects.filter(assignment_status="pending").exists()
                and Settlement.objects.count() == len(guides) + 1
            ),
            timeout=30,
        )

    # Every member is bound once, the guides evenly loaded
    assert Membership.objects.filter(assignment_status="assigned", guide__isnull=False).count() == (
        MEMBERS
    )
    events = AssignmentEvent.objects.values("membership").annotate(n=Count("pk"))
    assert Counter(row["n"] for row in events) == {1: MEMBERS}
    assert sorted(Counter(Membership.objects.values_list("guide", flat=True)).values()) == [4, 4, 4]
    # And every order is settled exactly as a fresh computation says (the refund nets out)
    expected = Counter()
    for order in orders[1:]:
        expected[("guide", order.guide_id)] += commission_amount(order.amount, Decimal("3.00"))
        expected[("store", store.pk)] += commission_amount(order.amount, Decimal("5.00"))
    settled = Counter(
        {(s.beneficiary, s.guide_id or s.store_id): s.total for s in Settlement.objects.all()}
    )
    assert settled == expected
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    assert CommissionEntry.objects.filter(refund__isnull=False).count() == 2
    assert_ledger_ok()

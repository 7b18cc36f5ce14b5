"""Redis stops mid-run: saved orders and sign-ups get their answers and their work runs on return.

The test process is the web process (the API in process, publishing to and
caching in a private ``redis-server``); a real worker and a real beat run
beside it. Redis is killed with work arriving, started again empty, and no
further request comes: beat's outbox drain alone must finish the work.
"""

import time
from decimal import Decimal

import pytest

from apps.commissions.models import CommissionEntry, Order
from apps.core.models import OutboxMessage
from apps.core.tasks import OUTBOX_DRAIN
from apps.customers.models import Membership
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.conftest import token_client
from tests.factories import BrandFactory, GuideFactory, StoreFactory, UserFactory
from tests.hardening.faults import assert_ledger_ok, private_redis, requires_postgres_and_broker
from tests.worker import beat_schedule_only, celery_beat, celery_worker, wait_for

pytestmark = [*requires_postgres_and_broker, pytest.mark.django_db(transaction=True)]

HERE = {"latitude": 31.2304, "longitude": 121.4737}
# The test's drain period (production: 30 s, apps.core.schedules).
DRAIN_SECONDS = 3


def _order(n: int) -> dict:
    return {
        "order_no": f"POS-{n}", "brand": "AUR", "store": "ONE", "guide": f"G{n % 2}",
        "amount": f"{100 + n}.00", "paid_at": "2026-03-10T18:30:00+08:00",
    }  # fmt: skip


def test_work_saved_while_redis_is_down_runs_when_it_returns(settings):
    # Given a store with guides, a plan, and an integration token
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ONE", brands=[brand], **HERE)
    for n in range(2):
        GuideFactory(employee_no=f"G{n}", store=store)
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    pos = token_client(UserFactory(username="pos", role="integration", is_staff=False))
    pos.raise_request_exception = False

    with private_redis() as redis, celery_worker(broker_url=redis.url) as worker:
        # And the web process caching in that Redis (rate limits, coalesced runs)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.url,
            }
        }
        settings.TASK_COALESCING = True
        beat_schedule_only({OUTBOX_DRAIN: DRAIN_SECONDS}, queue=worker.queue)
        with celery_beat(broker_url=redis.url) as beat:
            # When Redis dies while members sign up and orders arrive
            redis.kill()
            sign_ups = [
                pos.post("/api/v1/members/", {"brand": "AUR", "phone": f"1390000000{n}", **HERE},
                         format="json")
                for n in range(3)
            ]  # fmt: skip
            orders = [pos.post("/api/v1/orders/", _order(n), format="json") for n in range(3)]
            retry = pos.post("/api/v1/orders/", _order(0), format="json")

            # Then every caller hears that its work is saved, and the work waits in the outbox
            assert [r.status_code for r in sign_ups + orders] == [201] * 6, [
                r.content[:200] for r in sign_ups + orders
            ]
            assert retry.status_code == 200
            assert Membership.objects.filter(assignment_status="pending").count() == 3
            assert Order.objects.count() == 3
            assert not CommissionEntry.objects.exists()
            assert set(OutboxMessage.objects.values_list("task", flat=True)) == {
                "customers.memberships_assign_waiting", "commissions.orders_waiting_write",
            }  # fmt: skip

            # When Redis comes back empty, and nothing else arrives
            redis.start()
            back_at = time.monotonic()

            # Then beat's drain alone assigns the members and writes the entries
            wait_for(
                lambda: (
                    not Membership.objects.filter(assignment_status="pending").exists()
                    and CommissionEntry.objects.filter(refund__isnull=True).count() == 6
                ),
                timeout=60,
            )
            recovered_in = time.monotonic() - back_at
            assert not OutboxMessage.objects.exists()
            assert f"Sending due task Outbox drain ({OUTBOX_DRAIN})" in beat.log_text()

    assert Membership.objects.filter(assignment_status="assigned", guide__isnull=False).count() == 3
    # Within a few drain periods of Redis returning (the worker's reconnect backs off)
    assert recovered_in < 45, recovered_in
    print(f"recovered {recovered_in:.1f} s after Redis returned")
    assert_ledger_ok()

"""A worker killed with SIGKILL mid-write loses nothing and doubles nothing.

Each test holds a row lock from another connection so that the worker is
stopped at a known point inside its writes (not a sleep race), kills it there,
lets it come back and checks the outcome against a fresh computation.
"""

import datetime as dt
import os
import re
import signal
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from apps.commissions.models import Settlement
from apps.commissions.tasks import settlement_run_nightly
from apps.customers.models import AssignmentEvent, Customer, Membership
from apps.customers.tasks import memberships_assign_pending_task, memberships_assign_waiting_task
from apps.stores.models import Store
from tests.factories import BrandFactory, GuideFactory, StoreFactory
from tests.hardening.faults import (
    assert_ledger_ok,
    backends_waiting_for_a_lock,
    requires_postgres_and_broker,
    row_lock,
    t1_day_with_refunds,
)
from tests.worker import beat_schedule_only, celery_beat, celery_worker, wait_for

pytestmark = [*requires_postgres_and_broker, pytest.mark.django_db(transaction=True)]

HERE = {"latitude": 31.2304, "longitude": 121.4737}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAID_AT = dt.datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
DAY = PAID_AT.date()

# Bulk assignment commits batch by batch from PARALLEL_WRITE_MIN_ROWS rows on;
# smaller sizes give the same code path six batches with 600 members.
BATCHING = {
    "apps.customers.placements.PARALLEL_WRITE_MIN_ROWS": 200,
    "apps.customers.placements.BULK_WRITE_BATCH": 100,
}
MEMBERS = 600
# The killed worker's message is handed out again once unacknowledged this long.
VISIBILITY_TIMEOUT = 2


def received(worker, task_name: str) -> int:
    """Count the deliveries of ``task_name`` in the worker's log since it last started."""
    return len(
        re.findall(rf"Task {re.escape(task_name)}\[[0-9a-f-]+\] received", worker.log_text())
    )


def test_bulk_assignment_killed_between_batches_assigns_every_member_once():
    # Given 600 pending members near a store with four guides
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ONE", brands=[brand], **HERE)
    guides = [GuideFactory(employee_no=f"G{n}", store=store) for n in range(4)]
    customers = Customer.objects.bulk_create(
        Customer(phone=f"1380000{n:04d}") for n in range(MEMBERS)
    )
    members = Membership.objects.bulk_create(
        Membership(customer=c, brand=brand, source="h5", joined_at=PAID_AT, **HERE)
        for c in customers
    )
    fourth_batch_member = members[350].pk

    # And a lock that stops the write of the fourth batch of 100
    with (
        row_lock(Membership, fourth_batch_member) as lock,
        celery_worker(
            patches=BATCHING, env={"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
        ) as worker,
    ):
        # When the bulk assignment runs and is stopped in the middle of its writes
        memberships_assign_pending_task.delay()
        wait_for(
            lambda: (
                backends_waiting_for_a_lock() == 1
                and Membership.objects.filter(assignment_status="assigned").count() == 500
            ),
            timeout=30,
        )

        # And the whole worker is killed there, then started again
        worker.kill()
        killed_at = time.monotonic()
        lock.release()
        assert Membership.objects.filter(assignment_status="pending").count() == 100
        time.sleep(max(0.0, killed_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
        worker.start()

        # Then the unacknowledged message comes back by itself and finishes the job
        wait_for(
            lambda: not Membership.objects.filter(assignment_status="pending").exists(),
            timeout=30,
        )
        assert received(worker, "customers.memberships_assign_pending") == 1

    # And every member is bound once: one store, one guide, one initial event
    assert (
        Membership.objects.filter(
            assignment_status="assigned", store=store, guide__isnull=False
        ).count()
        == MEMBERS
    )
    events = AssignmentEvent.objects.values("membership").annotate(n=Count("pk"))
    assert Counter(row["n"] for row in events) == {1: MEMBERS}
    assert set(AssignmentEvent.objects.values_list("reason", flat=True)) == {"new_member"}
    # And the guides stay balanced as if nothing happened
    loads = Counter(Membership.objects.values_list("guide_id", flat=True))
    assert sorted(loads.values()) == [150, 150, 150, 150]
    assert set(loads) == {g.pk for g in guides}
    assert_ledger_ok()


def test_nightly_settlement_killed_mid_close_settles_every_entry_once():
    # Given a day of T+1 orders for three guides of two stores, some fully refunded
    expected = t1_day_with_refunds(paid_at=PAID_AT)
    last_store_settlement = Settlement.objects.filter(beneficiary="store").order_by("pk").last()
    assert last_store_settlement.status == Settlement.Status.OPEN

    # And a lock on one open store settlement, so the run stops in the middle of closing
    with (
        row_lock(Settlement, last_store_settlement.pk) as lock,
        celery_worker() as worker,
    ):
        # When the nightly run is killed while it closes the day
        settlement_run_nightly.delay((DAY + dt.timedelta(days=1)).isoformat())
        wait_for(lambda: backends_waiting_for_a_lock() == 1, timeout=30)
        (pool_process,) = worker.pool_pids()
        os.kill(pool_process, signal.SIGKILL)
        lock.release()

        # Then the worker hands the message out again at once and the run completes
        wait_for(
            lambda: not Settlement.objects.filter(status=Settlement.Status.OPEN).exists(),
            timeout=30,
        )
        wait_for(lambda: "succeeded" in worker.log_text(), timeout=10)
        assert "WorkerLostError" in worker.log_text()
        assert received(worker, "commissions.settlement_run_nightly") == 2

    # And each beneficiary has one settlement whose total is exactly what is owed
    settled = Counter()
    for settlement in Settlement.objects.all():
        key = (settlement.beneficiary, settlement.guide_id or settlement.store_id)
        assert key not in settled, f"{key} settled twice"
        settled[key] = settlement.total
    assert settled == expected
    # And running the night again settles nothing more
    call_command("settle", "--date", (DAY + dt.timedelta(days=1)).isoformat(), stdout=StringIO())
    assert Settlement.objects.count() == len(expected)
    assert_ledger_ok()


# What the README promises: a member is assigned within two minutes of joining
# whatever was lost (the sweep's staleness plus its period, a minute each).
ASSIGNED_WITHIN_SECONDS = 120
# The test's sweep period: production's is a minute (apps.core.schedules);
# the staleness a member must reach first stays production's.
TEST_SWEEP_SECONDS = 10


def test_a_killed_batch_run_is_recovered_by_the_sweep_on_beat_within_two_minutes():
    # Given 500 members who just joined, near a store with four guides
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="ONE", brands=[brand], **HERE)
    for n in range(4):
        GuideFactory(employee_no=f"G{n}", store=store)
    customers = Customer.objects.bulk_create(Customer(phone=f"1380000{n:04d}") for n in range(500))
    joined = time.monotonic()
    Membership.objects.bulk_create(
        Membership(customer=c, brand=brand, source="h5", joined_at=timezone.now(), **HERE)
        for c in customers
    )

    # And a worker, beat running the pending member sweep, and a lock on the store
    # that stops the batch run in the middle of its first batch
    with (
        row_lock(Store, store.pk) as lock,
        celery_worker() as worker,
    ):
        beat_schedule_only(
            {"customers.pending_memberships_sweep": TEST_SWEEP_SECONDS}, queue=worker.queue
        )
        with celery_beat() as beat:
            # When the batch run over them is killed with the worker (SIGKILL)
            memberships_assign_waiting_task.delay()
            wait_for(lambda: backends_waiting_for_a_lock() == 1, timeout=30)
            worker.kill()
            lock.release()
            assert Membership.objects.filter(assignment_status="pending").count() == 500
            # and the worker comes back at once: the run's message stays
            # unacknowledged for the visibility timeout (35 minutes)
            worker.start()

            # Then beat's sweep alone assigns every member, within two minutes of joining
            wait_for(
                lambda: not Membership.objects.filter(assignment_status="pending").exists(),
                timeout=max(1.0, joined + ASSIGNED_WITHIN_SECONDS - time.monotonic()),
            )
            assigned_after = time.monotonic() - joined
            assert "Sending due task Pending member sweep" in beat.log_text()
            assert received(worker, "customers.memberships_assign_waiting") == 0
    print(f"500 members of a killed run assigned {assigned_after:.0f} s after joining")

    events = AssignmentEvent.objects.values("membership").annotate(n=Count("pk"))
    assert Counter(row["n"] for row in events) == {1: 500}
    assert sorted(Counter(Membership.objects.values_list("guide_id", flat=True)).values()) == [
        125, 125, 125, 125,
    ]  # fmt: skip

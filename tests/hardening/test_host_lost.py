"""Losing a host: two hosts share PostgreSQL and Redis; one is killed whole in the middle of work.

Each host is a process group of its own (gunicorn and its Celery worker
groups, each worker named ``<group>@<host>``) as on a real machine
(tests/hosts.py). A row lock held from outside stops the work at a known
point inside its writes; the test finds which host took the message, kills
that host's whole process group (``kill -9 -<pgid>``) and times how long the
other host takes to finish the work. The broker windows are short here
(``CELERY_VISIBILITY_TIMEOUT``, ``CELERY_UNACKED_SWEEP_SECONDS``), as a
deployment whose tasks are all short could set them; production keeps 35
minutes. The recovery times printed are recorded in docs/benchmarks.md.
"""

import datetime as dt
import time
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from rest_framework.authtoken.models import Token

from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.services.settlements import SETTLEMENT_RUN_LOCK_KEY
from apps.commissions.tasks import settlement_run_nightly
from apps.core.roles import Role, user_role_add
from apps.customers.models import AssignmentEvent, Customer, Membership
from apps.customers.tasks import memberships_assign_pending_task
from tests.factories import BrandFactory, GuideFactory, StoreFactory
from tests.hardening.faults import (
    assert_ledger_ok,
    backend_alive,
    backends_waiting_for_a_lock_pids,
    requires_postgres_and_broker,
    row_lock,
    t1_day_with_refunds,
)
from tests.hosts import INTERACTIVE, SETTLEMENT, hosts
from tests.worker import wait_for

pytestmark = [*requires_postgres_and_broker, pytest.mark.django_db(transaction=True)]

HERE = {"latitude": 31.2304, "longitude": 121.4737}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAID_AT = dt.datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
DAY = PAID_AT.date()

# A message of a dead host is handed out again once unacknowledged this long,
# found by a live worker's sweep of unacknowledged messages every second.
VISIBILITY_TIMEOUT = 8
BROKER_WINDOWS = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                  "CELERY_UNACKED_SWEEP_SECONDS": "1"}  # fmt: skip
# Recovered within the visibility timeout, one sweep, and the work itself.
RECOVERY_BOUND_SECONDS = VISIBILITY_TIMEOUT + 30
# Bulk assignment commits batch by batch from PARALLEL_WRITE_MIN_ROWS rows on;
# smaller sizes give the same code path six batches with 600 members.
BATCHING = {
    "apps.customers.placements.PARALLEL_WRITE_MIN_ROWS": 200,
    "apps.customers.placements.BULK_WRITE_BATCH": 100,
}
MEMBERS = 600
SIGN_UPS = 40
# PostgreSQL checks every 10 s whether a running statement's client is still
# there (DATABASE_DEAD_CLIENT_SECONDS, production's default).
DEAD_CLIENT_BOUND_SECONDS = 10 + 10


def _run_lock_holders() -> list[int]:
    """Return the server pids of the sessions holding the settlement runs' advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s",
            [SETTLEMENT_RUN_LOCK_KEY >> 32, SETTLEMENT_RUN_LOCK_KEY & 0xFFFFFFFF],
        )
        return [row[0] for row in cursor.fetchall()]


def _taken_by(pair, task_name: str, group: str):
    """Return (the host whose worker of ``group`` took ``task_name``, the other host)."""
    taken = [host for host in pair if host.received(task_name, group)]
    assert len(taken) == 1, [host.logs() for host in pair]
    return taken[0], next(host for host in pair if host is not taken[0])


def test_a_host_killed_in_a_bulk_assignment_loses_no_member_and_binds_none_twice():
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
    pos = get_user_model().objects.create_user(username="pos")
    user_role_add(pos, Role.INTEGRATION)
    token = Token.objects.create(user=pos).key

    # And two hosts, each with its web and its interactive worker, and a lock
    # that stops the bulk run's writes at its fourth batch
    with (
        row_lock(Membership, members[350].pk) as lock,
        hosts(
            "host-a",
            "host-b",
            groups={"interactive": INTERACTIVE},
            env=BROKER_WINDOWS,
            patches=BATCHING,
        ) as pair,  # fmt: skip
    ):
        # When the bulk assignment runs on one of them (as `assign_members` queues it)
        memberships_assign_pending_task.delay()
        (held,) = wait_for(backends_waiting_for_a_lock_pids, timeout=60)
        task = "customers.memberships_assign_pending"
        victim, survivor = _taken_by(pair, task, "interactive")
        assigned_before = Membership.objects.filter(assignment_status="assigned").count()
        assert 0 < assigned_before < MEMBERS

        # And that host dies whole in the middle of it
        killed_at = victim.kill()

        # Then PostgreSQL ends the dead host's session by itself, rolling its batch
        # back and freeing its locks, though the row it waits for is still locked
        wait_for(lambda: not backend_alive(held), timeout=DEAD_CLIENT_BOUND_SECONDS)
        session_ended = time.monotonic() - killed_at
        lock.release()

        # And members keep signing up through the other host meanwhile
        answers = [
            survivor.post("/api/v1/members/", {
                "brand": "AUR", "phone": f"1390000{n:04d}",
                "latitude": HERE["latitude"] + n / 10_000, "longitude": HERE["longitude"],
            }, token=token)
            for n in range(SIGN_UPS)
        ]  # fmt: skip
        assert {status for status, _body in answers} == {201}, answers[:3]

        # Then the other host assigns every member, its sign-ups and the dead host's
        wait_for(
            lambda: not Membership.objects.filter(assignment_status="pending").exists(),
            timeout=RECOVERY_BOUND_SECONDS,
        )
        all_assigned = time.monotonic() - killed_at
        # And the dead host's message comes back to it within the windows, and finds
        # nothing left or only what is left
        left = max(1.0, killed_at + RECOVERY_BOUND_SECONDS - time.monotonic())
        wait_for(lambda: survivor.succeeded(task, "interactive") == 1, timeout=left)
        redelivered = time.monotonic() - killed_at
        assert survivor.received(task, "interactive") == 1
    print(
        f"\nhost killed in a bulk assignment ({assigned_before} of {MEMBERS} assigned): "
        f"its database session ended {session_ended:.1f} s after the kill, every member "
        f"assigned after {all_assigned:.1f} s, the run's message redelivered and finished "
        f"after {redelivered:.1f} s"
    )

    # And every member is bound once: one store, one guide, one initial event
    total = MEMBERS + SIGN_UPS
    assert (
        Membership.objects.filter(
            assignment_status="assigned", store=store, guide__isnull=False
        ).count()
        == total
    )
    events = AssignmentEvent.objects.values("membership").annotate(n=Count("pk"))
    assert Counter(row["n"] for row in events) == {1: total}
    # And the guides stay balanced as if nothing had happened
    loads = Counter(Membership.objects.values_list("guide_id", flat=True))
    assert set(loads) == {g.pk for g in guides}
    assert max(loads.values()) - min(loads.values()) <= 1
    assert_ledger_ok()


def test_a_host_killed_in_the_nightly_run_leaves_every_entry_settled_once():
    # Given a day of T+1 orders for three guides of two stores, some fully refunded
    expected = t1_day_with_refunds(paid_at=PAID_AT)
    entries = CommissionEntry.objects.count()
    last_store_settlement = Settlement.objects.filter(beneficiary="store").order_by("pk").last()

    # And two hosts, each with its web and its settlement worker, and a lock on one
    # open settlement, so the run stops in the middle of closing the day
    with (
        row_lock(Settlement, last_store_settlement.pk) as lock,
        hosts(
            "host-a", "host-b", groups={"settlement": SETTLEMENT}, env=BROKER_WINDOWS
        ) as pair,  # fmt: skip
    ):
        # When the nightly run starts on one of them
        settlement_run_nightly.delay((DAY + dt.timedelta(days=1)).isoformat())
        (held,) = wait_for(backends_waiting_for_a_lock_pids, timeout=60)
        task = "commissions.settlement_run_nightly"
        victim, survivor = _taken_by(pair, task, "settlement")
        assert _run_lock_holders() == [held]

        # And that host dies whole in the middle of its transaction
        killed_at = victim.kill()

        # Then PostgreSQL ends the dead host's session by itself: the run's
        # transaction is rolled back and its advisory lock freed for the other host
        wait_for(lambda: not backend_alive(held), timeout=DEAD_CLIENT_BOUND_SECONDS)
        session_ended = time.monotonic() - killed_at
        assert held not in _run_lock_holders()
        lock.release()

        # Then the other host runs the night again, once its message is handed back
        wait_for(
            lambda: not Settlement.objects.filter(status=Settlement.Status.OPEN).exists(),
            timeout=RECOVERY_BOUND_SECONDS,
        )
        settled = time.monotonic() - killed_at
        wait_for(lambda: survivor.succeeded(task, "settlement") == 1, timeout=30)
        assert survivor.received(task, "settlement") == 1
    print(
        f"\nhost killed in the nightly run: its database session ended {session_ended:.1f} s "
        f"after the kill, every settlement closed after {settled:.1f} s"
    )

    # And each beneficiary has one settlement whose total is exactly what is owed
    totals = Counter()
    for settlement in Settlement.objects.all():
        key = (settlement.beneficiary, settlement.guide_id or settlement.store_id)
        assert key not in totals, f"{key} settled twice"
        totals[key] = settlement.total
    assert totals == expected
    assert CommissionEntry.objects.count() == entries
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    # And running the night again by hand settles nothing more
    call_command("settle", "--date", (DAY + dt.timedelta(days=1)).isoformat(), stdout=StringIO())
    assert Settlement.objects.count() == len(expected)
    assert_ledger_ok()

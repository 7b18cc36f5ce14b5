"""Tasks run on queues by kind (apps.core.queues): sign-ups never wait behind settlement."""

import json
import time
import uuid

import psycopg
import pytest
from django.db import connection

from apps.commissions import task_names as commission_tasks
from apps.commissions.services.settlements import SETTLEMENT_RUN_LOCK_KEY
from apps.core import queues
from apps.core.observability import request_id_var
from apps.core.tasking import task_enqueue
from apps.customers.models import Membership
from apps.customers.services import member_join
from config.celery_app import app as celery_app
from config.supervisor import ROOT, procfile_commands, worker_queues
from tests.factories import BrandFactory, GuideFactory, StoreFactory
from tests.worker import (
    Worker,
    broker_url_configured,
    publishing_to,
    sending_to,
    wait_for,
    worker_broker_url,
)

SIGN_UP_BOUND_SECONDS = 5


@pytest.mark.django_db  # importing every tasks module may run model checks against the database
def test_every_task_names_its_queue_in_the_routing_table():
    celery_app.loader.import_default_modules()
    ours = {name for name in celery_app.tasks if not name.startswith(("celery.", "tests."))}

    assert ours - set(queues.TASK_QUEUES) == set()
    assert set(queues.TASK_QUEUES.values()) <= set(queues.QUEUES)


def test_the_router_sends_each_kind_to_its_queue(settings):
    settings.TASK_QUEUE_PREFIX = ""  # as deployed (tests of real workers use a private prefix)
    assert queues.route_task("customers.membership_assign_with_backlog", (), {}, {}) == {
        "queue": "assignment"
    }
    assert queues.route_task("commissions.order_entries_write", (), {}, {})["queue"] == "ledger"
    assert queues.route_task("commissions.settlement_run_nightly", (), {}, {})["queue"] == (
        "settlement"
    )
    assert queues.route_task("no.such_task", (), {}, {})["queue"] == "default"
    settings.TASK_QUEUE_PREFIX = "staging."
    assert queues.route_task("core.heartbeat", (), {}, {})["queue"] == "staging.default"


def test_the_procfile_worker_groups_consume_every_queue_once():
    commands = procfile_commands(ROOT / "Procfile", {})
    groups = [worker_queues(argv) for name, argv in commands.items() if name.startswith("worker")]

    consumed = [queue for group in groups for queue in group if queue != "celery"]
    assert sorted(consumed) == sorted(queues.QUEUES)
    # Sign-ups and settlement never share a group (so never a process).
    (assignment_group,) = [group for group in groups if "assignment" in group]
    assert "settlement" not in assignment_group and "ledger" not in assignment_group


def _task_line_of_request(log: str, request_id: str) -> dict | None:
    for line in log.splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        if (
            entry.get("request_id") == request_id
            and entry.get("task_id")
            and "succeeded" in entry["message"]
        ):
            return entry
    return None


def _advisory_lock_waiters(key: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND (classid::bigint << 32 | objid::bigint) = %s",
            [key],
        )
        return cursor.fetchone()[0]


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks need PostgreSQL")
@pytest.mark.skipif(not broker_url_configured(), reason="no broker and no embedded Redis")
@pytest.mark.django_db(transaction=True)
def test_a_sign_up_is_assigned_while_a_settlement_run_holds_its_worker():
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="SH", brands=[brand], latitude=31.2304, longitude=121.4737)
    GuideFactory(employee_no="G1", store=store)
    broker_url = worker_broker_url()
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    groups = [
        Worker(f"{prefix}interactive", concurrency=1, pool="prefork", broker_url=broker_url,
               prefix=prefix, kinds=(queues.ASSIGNMENT, queues.NOTIFY, queues.DEFAULT),
               env={"LOG_FORMAT": "json"}),
        Worker(f"{prefix}batch", concurrency=1, pool="prefork", broker_url=broker_url,
               prefix=prefix, kinds=(queues.SETTLEMENT,)),
    ]  # fmt: skip
    db = connection.settings_dict
    # Another session holds the lock every settlement run takes first: the
    # run sits in its worker as a long run over a million orders would.
    holder = psycopg.connect(
        host=db["HOST"] or "localhost", port=db["PORT"] or 5432, user=db["USER"],
        password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True,
    )  # fmt: skip
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", [SETTLEMENT_RUN_LOCK_KEY])
        with publishing_to(broker_url), sending_to(prefix, default_queue=f"{prefix}default"):
            for worker in groups:
                worker.spawn()
            for worker in groups:
                worker.wait_until_ready()
            # Given the nightly run started on the settlement group and stuck
            task_enqueue(commission_tasks.SETTLEMENT_RUN_NIGHTLY)
            wait_for(lambda: _advisory_lock_waiters(SETTLEMENT_RUN_LOCK_KEY) == 1, timeout=30)

            # When a member joins (in a request, as the API's sign-up does)
            joined = time.monotonic()
            request_id = request_id_var.set(f"req-{prefix}")
            try:
                membership = member_join(
                    brand=brand, phone="13900000001", source="mini_program",
                    latitude=31.2305, longitude=121.4738,
                ).membership  # fmt: skip
            finally:
                request_id_var.reset(request_id)

            # Then the interactive group assigns them within seconds, the run still waiting
            wait_for(
                lambda: Membership.objects.filter(
                    pk=membership.pk, assignment_status=Membership.Status.ASSIGNED
                ).exists(),
                timeout=SIGN_UP_BOUND_SECONDS,
                interval=0.05,
            )
            assert time.monotonic() - joined < SIGN_UP_BOUND_SECONDS
            assert _advisory_lock_waiters(SETTLEMENT_RUN_LOCK_KEY) == 1
            assert f"{commission_tasks.SETTLEMENT_RUN_NIGHTLY}[" not in groups[0].log_text()
            assert f"{commission_tasks.SETTLEMENT_RUN_NIGHTLY}[" in groups[1].log_text()
            # And the worker's JSON log follows the sign-up's request into its task
            wait_for(
                lambda: _task_line_of_request(groups[0].log_text(), f"req-{prefix}"), timeout=10
            )

            # And once the lock is free the run finishes on its own group
            holder.execute("SELECT pg_advisory_unlock(%s)", [SETTLEMENT_RUN_LOCK_KEY])
            wait_for(lambda: " succeeded in " in groups[1].log_text(), timeout=30)
    finally:
        holder.close()
        for worker in groups:  # both warm shutdowns at once
            if worker.process is not None and worker.process.poll() is None:
                worker.process.terminate()
        for worker in groups:
            worker.stop()

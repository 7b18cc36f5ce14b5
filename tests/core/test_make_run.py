"""README's ``make run``: a stop leaves nothing behind, a dead worker comes back, no sign-up lost.

The run uses the test database, a ``var/`` folder of its own (so an embedded
Redis of its own, unless ``CELERY_BROKER_URL`` points at an external one) and
a free port. It is stopped as a terminal stops it (Ctrl-C: SIGINT to its
whole process group); then the supervisor alone runs a worker (SIGTERM to its
group, as a process manager stops it), which must find whatever the run left
queued: ``make run`` itself would also assign pending members in
``seed_demo`` and hide a lost message.
"""

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from apps.customers.models import Membership
from apps.stores.models import Store
from config.supervisor import running_pid
from tests.processes import free_port, process_session, wait_until_session_empty
from tests.worker import ROOT, _database_url, broker_url_configured, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(not broker_url_configured(), reason="no broker and no embedded Redis"),
    pytest.mark.django_db(transaction=True),
]

PHONE_PREFIX = "176"  # never a demo member's
STOP_BOUND_SECONDS = 15


def _post(port: int, path: str, body: dict, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _sign_up(port: int, token: str, numbers) -> list[int]:
    store = Store.objects.filter(is_active=True, code="S0001").prefetch_related("brands").get()
    brand = store.brands.order_by("code").first()
    return [
        _post(port, "/api/v1/members/",
              {"brand": brand.code, "phone": f"{PHONE_PREFIX}{number:08d}",
               "latitude": store.latitude, "longitude": store.longitude},
              token)
        for number in numbers
    ]  # fmt: skip


def _pending() -> int:
    return Membership.objects.filter(
        customer__phone__startswith=PHONE_PREFIX, assignment_status=Membership.Status.PENDING
    ).count()


def test_a_stopped_run_leaves_nothing_running_and_loses_no_sign_up(tmp_path):
    port = free_port()
    var = tmp_path / "var"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": _database_url(),
        "VAR_DIR": str(var),
        "PORT": str(port),
    }

    def make_run(log_name: str):
        return process_session(["make", "run"], log=tmp_path / log_name, cwd=ROOT, env=env)

    with make_run("first.log") as run:
        # Given README's run, serving, with a few sign-ups sent
        wait_for(lambda: _health(port) or run.poll() is not None, timeout=180)
        assert run.poll() is None, (tmp_path / "first.log").read_text()
        user = get_user_model().objects.get(username="pos")
        token = Token.objects.get_or_create(user=user)[0].key
        assert _sign_up(port, token, range(3)) == [201] * 3
        wait_for(lambda: _pending() == 0, timeout=60)

        # When its worker dies, web goes on serving and the worker comes back to the work
        killed = running_pid("worker", var=var)
        os.kill(killed, signal.SIGKILL)
        assert _sign_up(port, token, range(3, 6)) == [201] * 3
        wait_for(lambda: running_pid("worker", var=var) not in (None, killed), timeout=30)
        wait_for(lambda: _pending() == 0, timeout=60)

        # And when the run is stopped right after more sign-ups (Ctrl-C)
        assert _sign_up(port, token, range(6, 8)) == [201] * 2
        os.killpg(run.pid, signal.SIGINT)
        left = wait_until_session_empty(run.pid, timeout=STOP_BOUND_SECONDS)

    # Then nothing of it is left within the bound
    assert left == [], (tmp_path / "first.log").read_text()

    supervisor = [sys.executable, "-m", "config.supervisor", "worker"]
    with process_session(supervisor, log=tmp_path / "second.log", cwd=ROOT, env=env) as run:
        # And a worker started on the same var/ assigns every member
        wait_for(lambda: _pending() == 0 or run.poll() is not None, timeout=120)
        assert run.poll() is None, (tmp_path / "second.log").read_text()
        assert Membership.objects.filter(customer__phone__startswith=PHONE_PREFIX).count() == 8

        # And a process manager's SIGTERM stops that one as completely
        started = time.monotonic()
        os.killpg(run.pid, signal.SIGTERM)
        left = wait_until_session_empty(run.pid, timeout=STOP_BOUND_SECONDS)
        assert left == [], (tmp_path / "second.log").read_text()
        assert time.monotonic() - started < STOP_BOUND_SECONDS

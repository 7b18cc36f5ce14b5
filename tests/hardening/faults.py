"""Tools of the fault tests: row locks held from outside, a private Redis, the ledger check."""

import datetime as dt
import socket
import subprocess
import time
from collections import Counter
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
import redis
from django.core.management import call_command
from django.db import connection

from apps.commissions import services
from apps.commissions.calculations import commission_amount
from config.embedded_redis import server_binary
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import BrandFactory, GuideFactory, StoreFactory
from tests.worker import broker_url_configured

requires_postgres_and_broker = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: fault tests hold workers with row locks; the database is SQLite",
    ),
    pytest.mark.skipif(
        not broker_url_configured(),
        reason="CELERY_BROKER_URL is not set: no broker to run a real worker against",
    ),
]


def assert_ledger_ok() -> str:
    """Run ``manage.py verify_ledger`` on everything (no grace) and return its summary."""
    out = StringIO()
    call_command("verify_ledger", "--grace-minutes=0", stdout=out)
    assert out.getvalue().startswith("ledger OK"), out.getvalue()
    return out.getvalue().strip()


def t1_day_with_refunds(*, paid_at: dt.datetime) -> Counter:
    """Write a day of T+1 orders for three guides of two stores, every seventh fully refunded.

    Return what each beneficiary is owed, computed afresh from the amounts
    (refunded orders net to zero): ``{("guide" | "store", pk): amount}``.
    """
    brand = BrandFactory(code="AUR")
    stores = [StoreFactory(code=f"S{n}", brands=[brand]) for n in range(2)]
    guides = [GuideFactory(employee_no=f"G{n}", store=stores[n % 2]) for n in range(3)]
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    expected = Counter()
    for n in range(30):
        guide = guides[n % 3]
        amount = Decimal("19.99") + n * Decimal("7.13")
        order, _created = services.order_ingest(
            order_no=f"POS-{n}", brand=brand, store=guide.store, guide=guide, amount=amount,
            paid_at=paid_at + dt.timedelta(minutes=n),
        )  # fmt: skip
        if n % 7 == 3:
            services.refund_create(
                order=order, refund_no=f"RF-{n}", amount=amount,
                refunded_at=paid_at + dt.timedelta(hours=2),
            )  # fmt: skip
        else:
            expected[("guide", guide.pk)] += commission_amount(amount, Decimal("3.00"))
            expected[("store", guide.store_id)] += commission_amount(amount, Decimal("5.00"))
    return expected


def _conninfo() -> str:
    db = connection.settings_dict
    return psycopg.conninfo.make_conninfo(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or "localhost", port=db["PORT"] or 5432,
    )  # fmt: skip


class RowLock:
    """A row of ``model`` locked ``FOR UPDATE`` by another connection until released."""

    def __init__(self, model, pk: int):
        self.connection = psycopg.connect(_conninfo())
        table = model._meta.db_table
        self.connection.execute(
            f"SELECT id FROM {table} WHERE id = %s FOR UPDATE",  # noqa: S608 - our table name
            [pk],
        ).fetchall()

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()


@contextmanager
def row_lock(model, pk: int):
    lock = RowLock(model, pk)
    try:
        yield lock
    finally:
        lock.release()


def backends_waiting_for_a_lock() -> int:
    """Count sessions of the test database blocked on a lock (a worker held mid-write)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def backends_waiting_for_a_lock_pids() -> list[int]:
    """Return the server pids of the sessions of the test database blocked on a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [row[0] for row in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    """Return whether the server still runs the session ``pid`` (and holds its locks)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throw-away ``redis-server`` on a free port that keeps nothing across a restart.

    The machine's shared Redis is never touched: other sessions use it.
    """

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: whatever was queued is gone, as after a crash without persistence."""
        self.process.kill()
        self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def queue_length(self, queue: str) -> int:
        return self.client().llen(queue)


@contextmanager
def private_redis():
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.kill()

"""Ingest a sale day's orders through the batch endpoint, and the single one beside it.

Starts the stack of ``make run`` (``config.supervisor``: gunicorn with 2
workers, Celery's interactive and ledger worker groups with 2 pool processes
each: orders' entries run on the ledger queue) on loopback against the
configured database, as ``bench load`` does. Then, in the same run:

1. ``--clients`` clients post ``--orders`` orders of a T+0 brand to
   ``POST /api/v1/orders/batch/`` in batches of ``--batch`` orders; the
   time runs from the first request until the last order's entries are
   written and settled;
2. ``--single-clients`` clients post orders one by one to
   ``POST /api/v1/orders/`` for ``--single-seconds``.

``ratio`` = orders_per_s / single_rps. ``lost`` counts orders the batch
endpoint answered ``created`` that are not stored with settled entries
when the drain ends; ``verify_ledger`` then checks the run's business days.
"""

import asyncio
import datetime as dt
import io
import json
import os
import random
import sys
import time
import uuid

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.bench.load import (
    ORDER_PREFIX,
    REQUEST_TIMEOUT_SECONDS,
    STACK_START_SECONDS,
    LoadMix,
    _cpu_seconds_by_kind,
    _database_url,
    _free_port,
    _start,
    _wait_for_port,
)
from apps.commissions.models import CommissionEntry, Order, OrderLine, Settlement
from apps.core.batches import BATCH_MAX_ITEMS
from apps.core.db import tables_analyze
from apps.demo.seed import demo_seed

MAX_ORDERS = 1_000_000
MAX_SINGLE_SECONDS = 120
DRAIN_TIMEOUT_SECONDS = 300


def add_arguments(parser):
    parser.add_argument("--orders", type=int, default=200_000, help=f"at most {MAX_ORDERS}")
    parser.add_argument("--batch", type=int, default=500, help="orders per batch request")
    parser.add_argument("--clients", type=int, default=4, help="clients posting batches")
    parser.add_argument("--single-seconds", type=int, default=20)
    parser.add_argument("--single-clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-workers", type=int, default=2)


async def _post(port: int, path: str, body: bytes, token: str) -> tuple[int, bytes]:
    """POST ``body`` on a fresh connection; return the status (0: no answer) and the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        response = await reader.read()
        head_bytes, _sep, payload = response.partition(b"\r\n\r\n")
        status_line = head_bytes.split(b"\r\n", 1)[0].split()
        return (int(status_line[1]) if len(status_line) > 1 else 0), payload
    finally:
        writer.close()


def _order_body(mix: LoadMix, rng: random.Random, *, client: int, number: int) -> dict:
    _kind, _path, body = mix.request(rng, client=client, number=number)
    return json.loads(body)


async def _batch_client(*, client, port, token, batches, mix, tally) -> None:
    rng = random.Random(client)
    for batch_number, size in batches:
        items = [
            _order_body(mix, rng, client=client, number=batch_number * 10_000 + i)
            for i in range(size)
        ]
        body = json.dumps({"items": items}).encode()
        try:
            status, payload = await asyncio.wait_for(
                _post(port, "/api/v1/orders/batch/", body, token),
                timeout=REQUEST_TIMEOUT_SECONDS * 4,
            )
        except (OSError, TimeoutError, ValueError):
            status, payload = 0, b""
        if status != 200:
            tally["failed_requests"] += 1
            tally["unanswered"] += size
            continue
        answer = json.loads(payload)
        for outcome in ("created", "replayed", "conflict", "invalid"):
            tally[outcome] += answer[outcome]


async def _single_client(*, client, port, token, deadline, mix, results) -> None:
    rng = random.Random(1_000 + client)
    sent = 0
    while time.monotonic() < deadline:
        body = json.dumps(_order_body(mix, rng, client=1_000 + client, number=sent)).encode()
        sent += 1
        started = time.perf_counter()
        try:
            status, _payload = await asyncio.wait_for(
                _post(port, "/api/v1/orders/", body, token), timeout=REQUEST_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError, ValueError):
            status = 0
        results.append((time.perf_counter() - started, status))


def _orders_outstanding(prefix: str) -> tuple[int, int]:
    """Return (orders stored, orders of them without settled entries) whose numbers start so."""
    orders = Order.objects.filter(order_no__startswith=prefix)
    entries = CommissionEntry.objects.filter(order=OuterRef("pk"), refund__isnull=True)
    unsettled = entries.filter(Q(settlement__isnull=True) | ~Q(settlement__status="settled"))
    return orders.count(), orders.filter(~Exists(entries) | Exists(unsettled)).count()


def run(
    *, stdout, orders, batch, clients, single_seconds, single_clients, web_workers,
    celery_workers, **_options,
):  # fmt: skip
    orders = max(1, min(orders, MAX_ORDERS))
    batch = max(1, min(batch, BATCH_MAX_ITEMS))
    single_seconds = max(1, min(single_seconds, MAX_SINGLE_SECONDS))
    demo_seed()
    token, _created = Token.objects.get_or_create(user=get_user_model().objects.get(username="pos"))
    run_tag = uuid.uuid4().hex[:8]
    mix = LoadMix(run=run_tag, order_share=1.0)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "API_SIGNUP_THROTTLE_RATE": "off",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(web_workers),
        "CELERY_CONCURRENCY": str(celery_workers),
        # Orders' entries and T+0 settlements run on the ledger queue.
        "CELERY_LEDGER_CONCURRENCY": str(celery_workers),
    }
    process, log = _start(
        [sys.executable, "-m", "config.supervisor", "web", "worker", "worker_ledger"],
        env,
        "ingest-stack.log",
    )
    database = connection.settings_dict["NAME"]
    tally = dict.fromkeys(
        ("created", "replayed", "conflict", "invalid", "unanswered", "failed_requests"), 0
    )
    try:
        _wait_for_port(port, timeout=STACK_START_SECONDS)
        sizes = [min(batch, orders - start) for start in range(0, orders, batch)]
        per_client = [[] for _client in range(clients)]
        for number, size in enumerate(sizes):
            per_client[number % clients].append((number, size))
        stdout.write(
            f"posting {orders} orders of brand {mix.order_brand} in {len(sizes)} batches of "
            f"{batch} from {clients} clients; load average {os.getloadavg()[0]:.2f}"
        )
        cpu_before = _cpu_seconds_by_kind(database)
        started = time.monotonic()
        asyncio.run(_batches(per_client, port=port, token=token.key, mix=mix, tally=tally))
        posted = time.monotonic()
        stdout.write(f"posted in {posted - started:.1f} s: {tally}; draining")
        prefix = f"{ORDER_PREFIX}{run_tag}-"
        stored, outstanding = _orders_outstanding(prefix)
        while outstanding and time.monotonic() - posted < DRAIN_TIMEOUT_SECONDS:
            time.sleep(0.5)
            stored, outstanding = _orders_outstanding(prefix)
        done = time.monotonic()
        cpu_after = _cpu_seconds_by_kind(database)
        seconds = done - started
        stdout.write(
            f"drained {done - posted:.1f} s after the last batch; CPU seconds: "
            + ", ".join(
                f"{kind} {cpu_after[kind] - cpu_before.get(kind, 0):.1f}"
                for kind in ("gunicorn", "celery", "postgres", "redis")
            )
        )
        single_results: list[tuple[float, int]] = []
        single_started = time.monotonic()
        asyncio.run(
            _singles(single_clients, port=port, token=token.key, mix=mix,
                     deadline=single_started + single_seconds, results=single_results)
        )  # fmt: skip
        single_elapsed = time.monotonic() - single_started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except Exception:
            process.kill()
        log.close()
    single_ok = sum(1 for _latency, status in single_results if status == 201)
    single_rps = single_ok / single_elapsed
    orders_per_s = stored / seconds
    lost = tally["created"] - (stored - outstanding)
    ledger = io.StringIO()
    # The run wrote most of these tables' rows moments ago: the checks are
    # planned on fresh statistics.
    tables_analyze(Order, OrderLine, CommissionEntry, Settlement)
    try:
        call_command(
            "verify_ledger", date_from=str(timezone.localdate() - dt.timedelta(days=1)),
            stdout=ledger, stderr=ledger,
        )  # fmt: skip
        ledger_ok = True
    except CommandError:
        ledger_ok = False
    stdout.write(ledger.getvalue().strip().splitlines()[-1] if ledger.getvalue() else "")
    return {
        "bench": "ingest",
        "orders": stored,
        "seconds": round(seconds, 1),
        "orders_per_s": round(orders_per_s, 1),
        "single_rps": round(single_rps, 1),
        "ratio": round(orders_per_s / single_rps, 1) if single_rps else None,
        "lost": lost,
        "outstanding": outstanding,
        "refused": tally["invalid"] + tally["conflict"] + tally["unanswered"],
        "ledger_ok": ledger_ok,
        "batch": batch,
        "clients": clients,
    }


async def _batches(per_client, *, port, token, mix, tally) -> None:
    await asyncio.gather(
        *(
            _batch_client(client=client, port=port, token=token, batches=batches, mix=mix,
                          tally=tally)
            for client, batches in enumerate(per_client)
        )
    )  # fmt: skip


async def _singles(clients, *, port, token, mix, deadline, results) -> None:
    await asyncio.gather(
        *(
            _single_client(client=client, port=port, token=token, deadline=deadline, mix=mix,
                           results=results)
            for client in range(clients)
        )
    )  # fmt: skip

"""Load the running system over HTTP: member sign-ups and T+0 orders, then the drain.

Starts the stack of ``make run`` (``config.supervisor``: gunicorn with 2
workers, the sign-ups' and the ledger's Celery workers with 2 pool processes
each, on the embedded Redis unless ``CELERY_BROKER_URL`` is set) on loopback against the configured
database, sends a mix of member sign-ups
(``POST /api/v1/members/``) and paid orders (``POST /api/v1/orders/``, of a
brand whose settlement terms are T+0) for a bounded time, then waits until the
workers have assigned every member the load created and written and settled
the commission entries of every order it sent. ``--kill-worker`` SIGKILLs the
Celery worker as the load ends: the drain then includes its restart.

gunicorn runs with ``API_SIGNUP_THROTTLE_RATE=off``: every sign-up carries the
one integration token, and the production limit on it (600 a minute by
default) would turn most of the load into 429s, measuring the throttle rather
than the system.

The clients are coroutines on one event loop speaking plain HTTP/1.1 (one
connection per request, as gunicorn's sync workers close it anyway): a thread
per client costs more CPU in the one process and contends for its GIL, on a
machine whose cores the server side needs.
"""

import asyncio
import contextlib
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.commissions.models import CommissionEntry, Order, SettlementMode, SettlementTerms
from apps.customers.models import Membership
from apps.demo.seed import demo_seed
from apps.guides.models import Guide
from apps.stores.models import Store
from config.supervisor import running_pid

ROOT = Path(settings.BASE_DIR)
# Phone numbers of load-test members start with this prefix (never a demo one).
PHONE_PREFIX = "177"
# Orders of a run are numbered ``LOAD-<run>-…``: the ledger is append-only and
# orders are protected from deletion, so each run keeps its own.
ORDER_PREFIX = "LOAD-"
DRAIN_TIMEOUT_SECONDS = 120
MAX_SECONDS = 300
MAX_CLIENTS = 99
REQUEST_TIMEOUT_SECONDS = 30
WARM_UP_REQUESTS = 2
# The stack runs `release` (migrate), `collectstatic` and `seed_demo` before gunicorn
# listens: on a busy machine that takes more than half a minute.
STACK_START_SECONDS = 120


def add_arguments(parser):
    parser.add_argument(
        "--seconds", type=int, default=60, help=f"how long to send (max {MAX_SECONDS})"
    )
    parser.add_argument(
        "--clients", type=int, default=16, help=f"concurrent clients (at most {MAX_CLIENTS})"
    )
    parser.add_argument(
        "--order-share", type=float, default=0.5, help="share of requests that are orders (0–1)"
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument(
        "--kill-worker", action="store_true", help="SIGKILL the Celery worker as the load ends"
    )
    parser.add_argument(
        "--anchor-seconds", type=int, default=20,
        help="then send the bare insert endpoint this long, same clients and server (0: skip)",
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(command: list[str], env: dict, log_name: str):
    log = open(ROOT / "var" / log_name, "w")  # noqa: SIM115 - closed with the process
    # The commands are this project's own executables with fixed arguments.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    return process, log


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# CPU use by process kind, read from /proc (Linux): where the two cores went.
def _cpu_seconds_by_kind(database: str) -> dict[str, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = defaultdict(float)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = next((k for k in ("gunicorn", "celery", "redis", "valkey") if k in cmdline), "other")
        kind = "redis" if kind == "valkey" else kind  # the embedded Redis
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            kind = "postgres"  # a backend serving this benchmark's database
        if kind == "other" and entry.name == str(os.getpid()):
            kind = "client"
        totals[kind] += (int(fields[11]) + int(fields[12])) / ticks
    return totals


class LoadMix:
    """What the clients send: sign-ups near stores and T+0 orders of the brand's stores."""

    def __init__(self, *, run: str, order_share: float):
        self.run, self.order_share = run, order_share
        self.signup_stores = [
            (brand_code, lat, lng)
            for lat, lng, brand_code in Store.objects.filter(is_active=True).values_list(
                "latitude", "longitude", "brands__code"
            )
            if brand_code
        ]
        t0_brand = (
            SettlementTerms.objects.filter(mode=SettlementMode.T0, store__isnull=True)
            .select_related("brand")
            .order_by("brand__code")
            .first()
        )
        if t0_brand is None:
            raise SystemExit("bench load needs a brand with T+0 terms (the demo has one)")
        self.order_brand = t0_brand.brand.code
        # Orders carry the selling guide and the phone of one of the brand's
        # demo members, as a POS sends them.
        guides = defaultdict(list)
        for store_code, employee_no in Guide.objects.filter(
            is_active=True, store__is_active=True, store__brands=t0_brand.brand
        ).values_list("store__code", "employee_no"):
            guides[store_code].append(employee_no)
        self.order_stores = sorted(guides.items())
        self.member_phones = list(
            Membership.objects.filter(brand=t0_brand.brand)
            .exclude(customer__phone__startswith=PHONE_PREFIX)
            .values_list("customer__phone", flat=True)[:500]
        )

    def request(self, rng: random.Random, *, client: int, number: int) -> tuple[str, str, bytes]:
        """Return (kind, path, JSON body) of the client's ``number``-th request."""
        if rng.random() < self.order_share:
            store_code, employee_nos = rng.choice(self.order_stores)
            cents = rng.randrange(9_900, 99_900)
            first = rng.randrange(100, cents)
            body = {
                "order_no": f"{ORDER_PREFIX}{self.run}-{client}-{number}",
                "brand": self.order_brand,
                "store": store_code,
                "guide": rng.choice(employee_nos),
                "member_phone": rng.choice(self.member_phones) if self.member_phones else "",
                "amount": str(Decimal(cents) / 100),
                "paid_at": timezone.now().isoformat(),
                "lines": [
                    {"sku": "SKU-A", "category": "apparel", "quantity": 1,
                     "amount": str(Decimal(first) / 100)},
                    {"sku": "SKU-B", "category": "shoes", "quantity": 1,
                     "amount": str(Decimal(cents - first) / 100)},
                ],
            }  # fmt: skip
            return "order", "/api/v1/orders/", json.dumps(body).encode()
        brand, latitude, longitude = rng.choice(self.signup_stores)
        body = {
            "brand": brand,
            "phone": f"{PHONE_PREFIX}{client * 1_000_000 + number:08d}",
            "latitude": latitude + rng.uniform(-0.05, 0.05),
            "longitude": longitude + rng.uniform(-0.05, 0.05),
        }
        return "signup", "/api/v1/members/", json.dumps(body).encode()


class AnchorMix:
    """What the clients send to the anchor: one small row each."""

    def __init__(self, *, run: str):
        self.run = run

    def request(self, rng: random.Random, *, client: int, number: int) -> tuple[str, str, bytes]:
        body = json.dumps({"label": f"{self.run}-{client}-{number}"}).encode()
        return "anchor", "/api/v1/bench/anchor/", body


async def _post(port: int, path: str, body: bytes, token: str) -> int:
    """POST ``body`` on a fresh connection; return the status (0: no answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        response = await reader.read()  # until the server closes
        status_line = response.split(b"\r\n", 1)[0].split()
        return int(status_line[1]) if len(status_line) > 1 else 0
    finally:
        writer.close()


async def _client(*, number, port, token, deadline, mix, results) -> None:
    rng = random.Random(number)
    sent = 0
    while time.monotonic() < deadline:
        kind, path, body = mix.request(rng, client=number, number=sent)
        sent += 1
        started = time.perf_counter()
        try:
            status = await asyncio.wait_for(
                _post(port, path, body, token), timeout=REQUEST_TIMEOUT_SECONDS
            )
        except (OSError, TimeoutError, ValueError):
            status = 0
        results.append((time.perf_counter() - started, status, kind))


async def _warm_up(*, clients, port, token, mix) -> None:
    """Send each client's first ``WARM_UP_REQUESTS`` requests, unmeasured."""
    rng = random.Random(-1)

    async def one_client(client: int) -> None:
        for number in range(WARM_UP_REQUESTS):
            # The last numbers of the client's range: never reached by a measured run.
            _kind, path, body = mix.request(rng, client=client, number=999_999 - number)
            with contextlib.suppress(OSError, TimeoutError, ValueError):
                await asyncio.wait_for(_post(port, path, body, token), REQUEST_TIMEOUT_SECONDS)

    await asyncio.gather(*(one_client(client) for client in range(clients)))


async def _send(*, clients, port, token, deadline, mix, results) -> None:
    await asyncio.gather(
        *(
            _client(number=number, port=port, token=token, deadline=deadline, mix=mix,
                    results=results)
            for number in range(clients)
        )
    )  # fmt: skip


def run(
    *, stdout, seconds, clients, order_share, web_workers, celery_workers, kill_worker=False,
    anchor_seconds=20, **_options,
):  # fmt: skip
    seconds, clients = max(1, min(seconds, MAX_SECONDS)), max(1, min(clients, MAX_CLIENTS))
    order_share = min(max(order_share, 0.0), 1.0)
    demo_seed()
    Membership.objects.filter(customer__phone__startswith=PHONE_PREFIX).delete()
    token, _created = Token.objects.get_or_create(user=get_user_model().objects.get(username="pos"))
    run_tag = uuid.uuid4().hex[:8]
    mix = LoadMix(run=run_tag, order_share=order_share)
    port = _free_port()
    env = {
        **os.environ,
        # The processes under load use the database this process seeded (under
        # pytest, the test database rather than the one DATABASE_URL names).
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "API_SIGNUP_THROTTLE_RATE": "off",
        "BENCH_ANCHOR_ENDPOINT": "true",
    }
    # The stack of `make run` (config.supervisor: the embedded Redis unless
    # CELERY_BROKER_URL is set, then the Procfile's web, the sign-ups' worker
    # and the ledger's), which restarts a worker that dies.
    env.update(PORT=str(port), WEB_CONCURRENCY=str(web_workers),
               CELERY_CONCURRENCY=str(celery_workers),
               CELERY_LEDGER_CONCURRENCY=str(celery_workers))  # fmt: skip
    processes = [
        _start(
            [sys.executable, "-m", "config.supervisor", "web", "worker", "worker_ledger"],
            env,
            "load-stack.log",
        )
    ]
    try:
        _wait_for_port(port, timeout=STACK_START_SECONDS)
        stdout.write(
            f"sending sign-ups and orders ({order_share:.0%} orders) for {seconds} s "
            f"from {clients} clients; load average {os.getloadavg()[0]:.2f}"
        )
        # Untimed: every gunicorn worker loads its code and opens its connections on
        # its first requests, which would otherwise weigh on whichever phase goes first.
        for warm_mix in (mix, AnchorMix(run=f"{run_tag}-warm")):
            asyncio.run(_warm_up(clients=clients, port=port, token=token.key, mix=warm_mix))
        results: list[tuple[float, int, str]] = []
        database = connection.settings_dict["NAME"]
        cpu_before = _cpu_seconds_by_kind(database)
        client_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        asyncio.run(
            _send(clients=clients, port=port, token=token.key, deadline=started + seconds,
                  mix=mix, results=results)
        )  # fmt: skip
        load_ended = time.monotonic()
        worker_pid = running_pid("worker", var=settings.VAR_DIR) if kill_worker else None
        if worker_pid:
            os.kill(worker_pid, signal.SIGKILL)
        cpu_after = _cpu_seconds_by_kind(database)
        client_after = resource.getrusage(resource.RUSAGE_SELF)
        drain = _wait_until_drained(load_ended, run_tag=run_tag)
        cpu_drained = _cpu_seconds_by_kind(database)
        anchor_results: list[tuple[float, int, str]] = []
        anchor_elapsed = 0.0
        if anchor_seconds > 0:
            anchor_started = time.monotonic()
            anchor_mix = AnchorMix(run=run_tag)
            asyncio.run(
                _send(clients=clients, port=port, token=token.key, mix=anchor_mix,
                      deadline=anchor_started + min(anchor_seconds, MAX_SECONDS),
                      results=anchor_results)
            )  # fmt: skip
            anchor_elapsed = time.monotonic() - anchor_started
    finally:
        for process, _log in processes:
            process.terminate()
        for process, log in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
    elapsed = load_ended - started
    client_cpu = (client_after.ru_utime + client_after.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    stdout.write(
        "CPU seconds during the load (of "
        f"{2 * elapsed:.0f} on 2 cores): client {client_cpu:.1f}, "
        + ", ".join(
            f"{kind} {cpu_after[kind] - cpu_before.get(kind, 0):.1f}"
            for kind in ("gunicorn", "celery", "postgres", "redis", "other")
        )
        + "; during the drain: "
        + ", ".join(
            f"{kind} {cpu_drained[kind] - cpu_after.get(kind, 0):.1f}"
            for kind in ("gunicorn", "celery", "postgres", "redis")
        )
    )
    by_kind = defaultdict(list)
    for latency, status, kind in results:
        by_kind[kind].append((latency, status))
    for kind, rows in sorted(by_kind.items()):
        lat = sorted(latency for latency, _status in rows)
        stdout.write(
            f"{kind}: {len(rows)} requests, p50 {statistics.median(lat) * 1000:.1f} ms, "
            f"p99 {_percentile(lat, 0.99) * 1000:.1f} ms, statuses "
            f"{dict(sorted(_count(status for _latency, status in rows).items()))}"
        )
    latencies = sorted(latency for latency, _status, _kind in results)
    ok = {"signup": (200, 201), "order": (201,)}
    errors = sum(1 for _latency, status, kind in results if status not in ok[kind])
    rps = len(results) / elapsed
    anchor_ok = sum(1 for _latency, status, _kind in anchor_results if status == 201)
    anchor_rps = anchor_ok / anchor_elapsed if anchor_elapsed else None
    if anchor_results:
        anchor_latencies = sorted(latency for latency, _status, _kind in anchor_results)
        stdout.write(
            f"anchor: {len(anchor_results)} requests, "
            f"p50 {statistics.median(anchor_latencies) * 1000:.1f} ms, "
            f"statuses {dict(_count(status for _latency, status, _kind in anchor_results))}"
        )
    gunicorn_cpu = cpu_after["gunicorn"] - cpu_before.get("gunicorn", 0)
    return {
        "bench": "load",
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "rps": round(rps, 1),
        "anchor_rps": None if anchor_rps is None else round(anchor_rps, 1),
        "ratio": round(rps / anchor_rps, 2) if anchor_rps else None,
        "gunicorn_cpu_ms_per_request": round(gunicorn_cpu * 1000 / max(len(results), 1), 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
        "drain_seconds": None if drain is None else round(drain, 1),
        "worker_killed": bool(worker_pid),
        # Members still pending, orders without settled entries: (0, 0) once drained.
        "outstanding": load_work_outstanding(run_tag=run_tag),
        "signups": len(by_kind["signup"]),
        "orders": len(by_kind["order"]),
    }


def _percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[max(int(len(sorted_values) * share) - 1, 0)]


def _count(values) -> dict:
    counts: dict = defaultdict(int)
    for value in values:
        counts[value] += 1
    return counts


def load_work_outstanding(*, run_tag: str) -> tuple[int, int]:
    """Return (members still pending, orders not yet settled) of the load run ``run_tag``.

    An order is done once its entries are written and each is in a settled
    settlement: every load order earns (the brand has a plan), so an order
    without entries is still waiting for its worker.
    """
    pending = Membership.objects.filter(
        customer__phone__startswith=PHONE_PREFIX, assignment_status=Membership.Status.PENDING
    ).count()
    entries = CommissionEntry.objects.filter(order=OuterRef("pk"), refund__isnull=True)
    unsettled = entries.filter(Q(settlement__isnull=True) | ~Q(settlement__status="settled"))
    orders = (
        Order.objects.filter(order_no__startswith=f"{ORDER_PREFIX}{run_tag}-")
        .filter(~Exists(entries) | Exists(unsettled))
        .count()
    )
    return pending, orders


def _wait_until_drained(load_ended: float, *, run_tag: str) -> float | None:
    """Return seconds from the end of the load until all its work is done (None: timeout)."""
    while time.monotonic() - load_ended < DRAIN_TIMEOUT_SECONDS:
        if load_work_outstanding(run_tag=run_tag) == (0, 0):
            return time.monotonic() - load_ended
        time.sleep(0.5)
    return None

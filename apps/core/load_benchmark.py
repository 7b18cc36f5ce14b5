"""Load the running system over HTTP: gunicorn (2 workers) and 2 Celery workers.

Starts the web and worker processes on loopback against the configured
PostgreSQL and Redis, sends member sign-ups from client threads for a bounded
time, then waits until the workers have assigned every member the load
created. Orders (and their T+0 settlement) are not in the mix yet.
"""

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.authtoken.models import Token

from apps.core.demo import demo_seed
from apps.customers.models import Membership
from apps.stores.models import Store

ROOT = Path(settings.BASE_DIR)
# Phone numbers of load-test members start with this prefix (never a demo one).
PHONE_PREFIX = "177"
DRAIN_TIMEOUT_SECONDS = 120


def add_arguments(parser):
    parser.add_argument("--seconds", type=int, default=60, help="how long to send (max 300)")
    parser.add_argument(
        "--clients", type=int, default=16, help="concurrent client threads (at most 99)"
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-workers", type=int, default=2)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(command: list[str], env: dict, log_name: str):
    log = open(ROOT / "var" / log_name, "w")  # noqa: SIM115 - closed with the process
    # The commands are this project's own executables with fixed arguments.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    return process, log


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Client(threading.Thread):
    """One keep-alive connection sending sign-ups until the deadline."""

    def __init__(self, *, port, token, deadline, stores, first_phone, results):
        super().__init__(daemon=True)
        self.port, self.token, self.deadline = port, token, deadline
        self.stores, self.next_phone, self.results = stores, first_phone, results
        self.rng = random.Random(first_phone)

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        while time.monotonic() < self.deadline:
            brand, latitude, longitude = self.rng.choice(self.stores)
            body = json.dumps({
                "brand": brand,
                "phone": f"{PHONE_PREFIX}{self.next_phone:08d}",
                "latitude": latitude + self.rng.uniform(-0.05, 0.05),
                "longitude": longitude + self.rng.uniform(-0.05, 0.05),
            })  # fmt: skip
            self.next_phone += 1
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/members/", body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.results.append((time.perf_counter() - started, status))
        conn.close()


def run(*, stdout, seconds, clients, web_workers, celery_workers, **_options):
    if connection.vendor != "postgresql" or not os.environ.get("CELERY_BROKER_URL"):
        raise SystemExit(
            "bench load needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://…"
        )
    seconds, clients = min(seconds, 300), min(clients, 99)
    demo_seed()
    Membership.objects.filter(customer__phone__startswith=PHONE_PREFIX).delete()
    token, _created = Token.objects.get_or_create(user=get_user_model().objects.get(username="pos"))
    stores = [
        (brand_code, lat, lng)
        for lat, lng, brand_code in Store.objects.filter(is_active=True).values_list(
            "latitude", "longitude", "brands__code"
        )
        if brand_code
    ]
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "false"}
    bin_dir = Path(sys.executable).parent
    processes = [
        _start(
            [str(bin_dir / "gunicorn"), "config.wsgi", "--preload", "--bind",
             f"127.0.0.1:{port}", "--workers", str(web_workers)],
            env, "load-web.log",
        )
    ] + [
        _start(
            [str(bin_dir / "celery"), "-A", "config", "worker", "--concurrency", "1",
             "--hostname", f"load{number}@%h", "--loglevel", "warning"],
            env, f"load-worker{number}.log",
        )
        for number in range(celery_workers)
    ]  # fmt: skip
    try:
        _wait_for_port(port)
        stdout.write(f"sending sign-ups for {seconds} s from {clients} clients")
        results: list[tuple[float, int]] = []
        started = time.monotonic()
        deadline = started + seconds
        threads = [
            Client(port=port, token=token.key, deadline=deadline, stores=stores,
                   first_phone=number * 1_000_000, results=results)
            for number in range(clients)
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_ended = time.monotonic()
        drain = _wait_until_drained(load_ended)
    finally:
        for process, _log in processes:
            process.terminate()
        for process, log in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
    latencies = sorted(latency for latency, _status in results)
    errors = sum(1 for _latency, status in results if status not in (200, 201))
    elapsed = load_ended - started
    return {
        "bench": "load",
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "rps": round(len(results) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "errors": errors,
        "drain_seconds": None if drain is None else round(drain, 1),
    }


def _wait_until_drained(load_ended: float) -> float | None:
    """Return seconds from the end of the load until no load member is pending (None: timeout)."""
    while time.monotonic() - load_ended < DRAIN_TIMEOUT_SECONDS:
        pending = Membership.objects.filter(
            customer__phone__startswith=PHONE_PREFIX, assignment_status="pending"
        ).exists()
        if not pending:
            return time.monotonic() - load_ended
        time.sleep(0.5)
    return None

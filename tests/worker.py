"""Start real Celery worker processes on the test database and a private queue."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.core.queues import QUEUES
from config.celery_app import app as celery_app
from config.embedded_redis import EmbeddedRedisUnavailable, server_binary

ROOT = Path(__file__).resolve().parents[1]


def broker_url_configured() -> bool:
    """Return whether real workers can run: an external broker, or a Redis binary for our own."""
    if os.environ.get("CELERY_BROKER_URL"):
        return True
    try:
        server_binary()
    except EmbeddedRedisUnavailable:
        return False
    return True


class _TestRedis:
    """The test run's own Redis (settings.TEST_REDIS), started on first use, stopped at the end."""

    process: subprocess.Popen | None = None

    @classmethod
    def ensure_running(cls) -> None:
        server = settings.TEST_REDIS
        if server is None or (cls.process is not None and cls.process.poll() is None):
            return
        server.data_dir.mkdir(parents=True, exist_ok=True)
        with open(server.data_dir / "server.log", "w") as log:
            cls.process = subprocess.Popen(
                server.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        server.wait_until_up(alive=lambda: cls.process.poll() is None)

    @classmethod
    def stop(cls) -> None:
        if cls.process is None:
            return
        cls.process.terminate()
        try:
            cls.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.process.kill()
            cls.process.wait(timeout=10)
        cls.process = None
        shutil.rmtree(settings.TEST_REDIS.data_dir, ignore_errors=True)


def worker_broker_url() -> str:
    """Return the broker the tests' workers use, starting the test run's own Redis if it is that."""
    _TestRedis.ensure_running()
    return settings.CELERY_BROKER_URL


def redis_cache_location() -> str:
    """Return a redis-py URL of the tests' Redis (external, or the test run's own)."""
    if settings.TEST_REDIS is None:
        return os.environ["CELERY_BROKER_URL"]
    _TestRedis.ensure_running()
    return settings.TEST_REDIS.cache_url


stop_test_redis = _TestRedis.stop


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One ``celery worker`` process (and its pool) consuming ``queue``; can be killed and started
    again on the same queue, as an operator restarts a crashed worker.

    It also consumes the routed queues (``apps.core.queues``) named ``kinds``
    (default: all of them) under the private ``prefix`` (default:
    ``"<queue>."``), and the tasks it queues itself go there too. Workers
    given one prefix and different kinds are a test's worker groups.

    ``patches`` sets module constants in the worker before it starts (for
    example a smaller batch size, so a test sees several batches with a few
    hundred rows); ``env`` adds environment variables.
    """

    def __init__(self, queue: str, *, concurrency: int, pool: str, broker_url: str,
                 env: dict | None = None, patches: dict | None = None,
                 prefix: str | None = None, kinds: tuple[str, ...] = QUEUES):  # fmt: skip
        self.queue, self.concurrency, self.pool = queue, concurrency, pool
        self.prefix = prefix or f"{queue}."
        self.queues = [queue, *(f"{self.prefix}{kind}" for kind in kinds)]
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker_url,
            "TEST_WORKER_PATCHES": json.dumps(patches or {}),
            "TEST_TASK_QUEUE_PREFIX": self.prefix,
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return ROOT / "var" / f"worker-{self.queue}-{self.starts}.log"

    def log_text(self) -> str:
        return self.log_path.read_text()

    def start(self) -> None:
        self.spawn()
        self.wait_until_ready()

    def wait_until_ready(self) -> None:
        _wait_until_ready(self.process, self.log_path)

    def spawn(self) -> None:
        """Start the process without waiting for it to be ready (to boot several at once)."""
        self.starts += 1
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in _reap
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "tests.worker_boot", "-A", "config", "worker",
                "--queues", ",".join(self.queues), "--pool", self.pool,
                "--hostname", f"{self.queue}@%h",
                "--concurrency", str(self.concurrency),
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "info",
            ],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def pool_pids(self) -> list[int]:
        """Return the pids of the worker's pool processes (the ones that run tasks)."""
        # Any thread may fork (billiard respawns processes from a helper thread).
        threads = Path(f"/proc/{self.process.pid}/task").glob("*/children")
        return sorted({int(pid) for thread in threads for pid in thread.read_text().split()})

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: nothing is acknowledged or cleaned up."""
        pids = self.pool_pids()
        os.kill(self.process.pid, signal.SIGKILL)
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._reap()
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._reap()

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=20)
            self._log.close()


@contextmanager
def celery_worker(
    *,
    concurrency: int = 1,
    pool: str = "prefork",
    broker_url: str | None = None,
    env: dict | None = None,
    patches: dict | None = None,
    start: bool = True,
):
    """Yield a ``Worker`` on a private queue, started unless ``start`` is false.

    For the duration the test process stops running tasks eagerly and sends
    every task to that queue (on ``broker_url`` if given), so code under test
    that calls ``.delay()`` really goes through the broker to the worker.
    """
    broker_url = broker_url or worker_broker_url()
    worker = Worker(
        f"test-{uuid.uuid4().hex[:12]}", concurrency=concurrency, pool=pool,
        broker_url=broker_url, env=env, patches=patches,
    )  # fmt: skip
    try:
        with publishing_to(broker_url), sending_to(worker.prefix, default_queue=worker.queue):
            if start:
                worker.start()
            yield worker
    finally:
        worker.stop()


@contextmanager
def sending_to(prefix: str, *, default_queue: str):
    """Make the test process send tasks, not run them, to the queues under ``prefix``."""
    previous = (
        celery_app.conf.task_always_eager,
        celery_app.conf.task_default_queue,
        settings.TASK_QUEUE_PREFIX,
    )
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = default_queue
    settings.TASK_QUEUE_PREFIX = prefix
    try:
        yield
    finally:
        (
            celery_app.conf.task_always_eager,
            celery_app.conf.task_default_queue,
            settings.TASK_QUEUE_PREFIX,
        ) = previous


class Beat:
    """One ``celery beat`` process with django-celery-beat's DatabaseScheduler on the test
    database, sending to ``broker_url``: the schedule is the PeriodicTask rows (see
    ``beat_schedule_only``)."""

    def __init__(self, *, broker_url: str):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker_url,
            "TEST_TASKS_EAGER": "false",
        }
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"beat-{uuid.uuid4().hex[:12]}.log"

    def log_text(self) -> str:
        return self.log_path.read_text()

    def start(self) -> None:
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "tests.worker_boot", "-A", "config", "beat",
                "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval", "1", "--pidfile=", "--loglevel", "info",
            ],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: "beat: Starting" in self.log_text(), timeout=60)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self._log.close()


@contextmanager
def celery_beat(*, broker_url: str | None = None):
    """Yield a started ``Beat`` sending to ``broker_url`` (default: the configured broker)."""
    beat = Beat(broker_url=broker_url or worker_broker_url())
    try:
        beat.start()
        yield beat
    finally:
        beat.stop()


def beat_schedule_only(every_seconds: dict[str, int], *, queue: str) -> None:
    """Make the PeriodicTask rows run only the tasks named, every so many seconds, on ``queue``.

    The rows are the production defaults (``apps.core.schedules``); a test
    shortens the periods it waits for and sends to its worker's private queue.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    from apps.core.schedules import periodic_tasks_ensure

    periodic_tasks_ensure()
    for row in PeriodicTask.objects.all():
        if row.task in every_seconds:
            row.interval, _created = IntervalSchedule.objects.get_or_create(
                every=every_seconds[row.task], period=IntervalSchedule.SECONDS
            )
            row.crontab, row.enabled, row.queue, row.last_run_at = None, True, queue, None
        else:
            row.enabled = False
        row.save()
    PeriodicTasks.update_changed()


@contextmanager
def running_worker(*, concurrency: int = 1, pool: str = "prefork"):
    """Yield the name of a private queue that a freshly started worker consumes."""
    with celery_worker(concurrency=concurrency, pool=pool) as worker:
        yield worker.queue


@contextmanager
def publishing_to(broker_url: str):
    """Make the test process publish tasks to ``broker_url`` for the duration."""
    # Publishing uses the write URL; ``broker_url`` itself is shadowed by the
    # CELERY_BROKER_URL environment variable.
    previous = celery_app.conf.get("broker_write_url")
    if broker_url == celery_app.conf.broker_url:
        yield
        return
    _forget_connections()
    celery_app.conf.broker_write_url = broker_url
    try:
        yield
    finally:
        _forget_connections()
        celery_app.conf.broker_write_url = previous


def _forget_connections() -> None:
    # The app caches its connection and producer pools on first use, bound to
    # the broker URL of that moment (as after a fork). The pools themselves
    # are kombu's, shared per URL: dropped here, never closed.
    celery_app._after_fork()


def _wait_until_ready(process, log_path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log_path.read_text()}")
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready after {timeout}s:\n{log_path.read_text()}")


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")

"""``config.supervisor`` on stand-in processes: restarts, bounded stops, nothing outlives it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu import Connection
from redis import Redis

from config.embedded_redis import EmbeddedRedis
from config.supervisor import (
    COLD_SHUTDOWN_SECONDS,
    STOP_GRACE_SECONDS,
    procfile_commands,
    requeue_unacknowledged,
    running_pid,
    worker_queues,
)
from tests.processes import process_session, wait_for_text, wait_until_session_empty
from tests.slow_celery_app import app as slow_app
from tests.slow_celery_app import sleep as slow_task
from tests.worker import broker_url_configured

ROOT = Path(__file__).resolve().parents[2]
SLEEPER = "python -c 'import time; time.sleep(3600)'"
CRASHER = "python -c 'import sys, time; time.sleep(0.3); sys.exit(3)'"
# Ignores SIGTERM and SIGQUIT, as a worker stuck in its shutdown does, and
# has a child of its own that ignores SIGTERM too.
STUCK = (
    'python -c "import signal, subprocess, sys, time; '
    "[signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGQUIT)]; "
    "subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)']); "
    "print('stuck', flush=True); time.sleep(3600)\""
)


def supervise(tmp_path: Path, procfile: str, *processes: str):
    (tmp_path / "Procfile").write_text(procfile)
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path / "var"),
        # An external broker: the stand-ins need no embedded Redis.
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    return process_session(
        [sys.executable, "-m", "config.supervisor", "--procfile", str(tmp_path / "Procfile"),
         *processes],
        log=tmp_path / "supervisor.log", cwd=ROOT, env=env,
    )  # fmt: skip


def test_procfile_commands_expand_variables_with_defaults():
    commands = procfile_commands(
        ROOT / "Procfile", {"PORT": "8123", "CELERY_CONCURRENCY": "", "PATH": "/bin"}
    )

    assert commands["web"][:5] == [
        "gunicorn",
        "config.wsgi",
        "--preload",
        "--bind",
        "127.0.0.1:8123",
    ]
    assert "--concurrency=2" in commands["worker"]
    assert worker_queues(commands["worker_settlement"]) == {"settlement"}
    assert worker_queues(["celery", "worker", "-Q", "a,b"]) == {"a", "b"}
    assert worker_queues(["celery", "worker", "-Qa"]) == {"a"}
    assert worker_queues(["celery", "worker"]) is None
    assert commands["release"] == ["python", "manage.py", "migrate", "--noinput"]


def test_a_process_that_exits_is_restarted_with_backoff_and_the_others_keep_running(tmp_path):
    with supervise(
        tmp_path, f"steady: {SLEEPER}\ncrashy: {CRASHER}\n", "steady", "crashy"
    ) as supervisor:
        log = tmp_path / "supervisor.log"
        wait_for_text(log, "crashy exited (3); restarting in 1 s", timeout=20)
        steady = running_pid("steady", var=tmp_path / "var")

        text = wait_for_text(log, "crashy exited (3); restarting in 2 s", timeout=20)

        assert running_pid("steady", var=tmp_path / "var") == steady
        assert "steady exited" not in text
        supervisor.send_signal(signal.SIGTERM)
        assert wait_until_session_empty(supervisor.pid, timeout=5) == []
        assert supervisor.wait(timeout=5) == 0


def test_ctrl_c_stops_a_stuck_worker_and_its_children_within_the_bound(tmp_path):
    with supervise(tmp_path, f"worker: {STUCK}\nweb: {SLEEPER}\n", "worker", "web") as supervisor:
        wait_for_text(tmp_path / "supervisor.log", "stuck", timeout=20)
        started = time.monotonic()

        os.killpg(supervisor.pid, signal.SIGINT)  # what a terminal's Ctrl-C does

        left = wait_until_session_empty(supervisor.pid, timeout=15)
        took = time.monotonic() - started
        text = (tmp_path / "supervisor.log").read_text()
    assert left == []
    assert STOP_GRACE_SECONDS + COLD_SHUTDOWN_SECONDS - 1 < took < 15
    assert "worker still busy: cold shutdown" in text
    assert "worker did not stop: SIGKILL to its process group" in text
    assert "web did not stop" not in text  # the sleeper obeys SIGTERM


def test_processes_die_with_a_killed_supervisor(tmp_path):
    with supervise(tmp_path, f"web: {SLEEPER}\nbeat: {SLEEPER}\n", "web", "beat") as supervisor:
        log = tmp_path / "supervisor.log"
        deadline = time.monotonic() + 20
        while not (
            running_pid("web", var=tmp_path / "var") and running_pid("beat", var=tmp_path / "var")
        ):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)

        supervisor.kill()

        assert wait_until_session_empty(supervisor.pid, timeout=5) == []


def test_a_second_run_on_the_same_var_folder_is_refused(tmp_path):
    with supervise(tmp_path, f"web: {SLEEPER}\n", "web"):
        deadline = time.monotonic() + 20
        while not running_pid("web", var=tmp_path / "var"):
            assert time.monotonic() < deadline
            time.sleep(0.1)

        second = subprocess.run(
            [sys.executable, "-m", "config.supervisor", "--procfile", str(tmp_path / "Procfile"),
             "web"],
            cwd=ROOT, env={**os.environ, "VAR_DIR": str(tmp_path / "var"),
                           "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"},
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    assert second.returncode == 1
    assert "another run" in second.stderr


@pytest.mark.skipif(not broker_url_configured(), reason="no Redis binary for this platform")
def test_messages_a_killed_consumer_held_go_back_to_their_queue(tmp_path):
    redis = EmbeddedRedis(tmp_path / "redis", persistent=False)
    server = subprocess.Popen(redis.command(), stdout=subprocess.DEVNULL)
    try:
        redis.wait_until_up(alive=lambda: server.poll() is None)
        with Connection(redis.broker_url) as connection:
            queue = connection.SimpleQueue("jobs")
            queue.put({"job": 1})
            queue.put({"job": 2})
            queue.close()
            busy = connection.SimpleQueue("busy")
            busy.put({"job": 3})
            busy.close()
        # Given a consumer that took all three messages without acknowledging them, then died
        consumer = subprocess.run(
            [sys.executable, "-c",
             "import os, signal, sys; from kombu import Connection\n"
             "q = Connection(sys.argv[1]).SimpleQueue('jobs')\n"
             "[q.get(timeout=5) for _ in range(2)]\n"
             "Connection(sys.argv[1]).SimpleQueue('busy').get(timeout=5)\n"
             "os.kill(os.getpid(), signal.SIGKILL)", redis.broker_url],
            cwd=ROOT, capture_output=True, timeout=30,
        )  # fmt: skip
        assert consumer.returncode == -signal.SIGKILL, consumer.stderr
        client = Redis.from_url(redis.cache_url)
        assert (client.llen("jobs"), client.hlen("unacked")) == (0, 3)

        # When they are handed back, but for the queue a live worker consumes
        handed_back = requeue_unacknowledged(redis.broker_url, keep_queues={"busy"})

        # Then the next consumer gets both, marked as redelivered
        with Connection(redis.broker_url) as connection:
            queue = connection.SimpleQueue("jobs")
            messages = [queue.get(timeout=5) for _ in range(2)]
            for message in messages:
                message.ack()
            queue.close()
        assert handed_back == 2
        assert sorted(m.payload["job"] for m in messages) == [1, 2]
        assert all(m.delivery_info.get("redelivered") or m.headers.get("redelivered")
                   for m in messages)  # fmt: skip
        assert (client.llen("busy"), client.hlen("unacked")) == (0, 1)
        assert requeue_unacknowledged(redis.broker_url) == 1
        assert requeue_unacknowledged(redis.broker_url) == 0
    finally:
        server.kill()
        server.wait(timeout=10)


@pytest.mark.skipif(not broker_url_configured(), reason="no Redis binary for this platform")
def test_a_worker_still_busy_at_the_stop_hands_its_task_back_to_the_queue(tmp_path):
    var = tmp_path / "var"
    worker = (
        "celery -A tests.slow_celery_app worker --concurrency=1 --loglevel=info "
        "--without-mingle --without-gossip"
    )
    (tmp_path / "Procfile").write_text(f"worker: {worker}\n")
    # The embedded Redis of the run's var/, and no Django in the worker.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    argv = [sys.executable, "-m", "config.supervisor", "--procfile", str(tmp_path / "Procfile"),
            "worker"]  # fmt: skip
    log = tmp_path / "supervisor.log"
    with process_session(argv, log=log, cwd=ROOT, env={**env, "VAR_DIR": str(var)}) as run:
        # Given the run's worker in the middle of a task longer than any grace
        wait_for_text(log, "ready.", timeout=60)
        # Straight to the run's Redis: a CELERY_BROKER_URL of this process would win otherwise.
        with slow_app.connection_for_write(EmbeddedRedis(var / "redis").broker_url) as connection:
            slow_task.apply_async((120,), connection=connection)
        wait_for_text(log, "slow task started", timeout=30)

        # When the run is stopped
        os.killpg(run.pid, signal.SIGTERM)
        left = wait_until_session_empty(run.pid, timeout=15)
    assert left == [], log.read_text()
    assert "worker still busy: cold shutdown" in log.read_text()

    # Then the task waits in the queue for the next run (kept in the append-only file)
    server = subprocess.Popen(EmbeddedRedis(var / "redis").command(), stdout=subprocess.DEVNULL)
    try:
        EmbeddedRedis(var / "redis").wait_until_up(alive=lambda: server.poll() is None)
        client = Redis.from_url(EmbeddedRedis(var / "redis").cache_url)
        assert (client.llen("celery"), client.hlen("unacked")) == (1, 0)
    finally:
        server.kill()
        server.wait(timeout=10)

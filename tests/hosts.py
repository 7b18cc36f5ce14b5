"""Several "hosts" on this machine: each a process group with its own web and worker processes.

A ``Host`` runs gunicorn and one Celery worker per group (``--hostname
<group>@<host>``, as the Procfile's ``interactive@%h`` on a real host) as
children of one shell, the leader of a session and process group of its own.
``kill()`` SIGKILLs the whole group at once (``kill -9 -<pgid>``): what a lost
host does to its processes, with nothing acknowledged, unlocked or cleaned up.
The hosts share the test database and the broker, and consume the queues of
one private prefix, as the hosts of a deployment share PostgreSQL and Redis.
"""

import json
import os
import re
import shlex
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from tests.processes import free_port, kill_session, wait_until_session_empty
from tests.worker import ROOT, _database_url, publishing_to, sending_to, worker_broker_url

# The Procfile's worker groups and the queues each consumes.
INTERACTIVE = ("assignment", "notify", "default")
LEDGER = ("ledger",)
SETTLEMENT = ("settlement",)
BOOT_SECONDS = 90


class Host:
    """One host: gunicorn (one worker) and a Celery worker per group, in one process group."""

    def __init__(self, name: str, *, prefix: str, groups: dict[str, tuple[str, ...]],
                 env: dict | None = None, patches: dict | None = None):  # fmt: skip
        self.name, self.prefix, self.groups = name, prefix, groups
        self.port = free_port()
        self.dir = ROOT / "var" / f"host-{name}-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": worker_broker_url(),
            "TEST_TASKS_EAGER": "false",
            "TEST_TASK_QUEUE_PREFIX": prefix,
            "TEST_WORKER_PATCHES": json.dumps(patches or {}),
            "PROMETHEUS_MULTIPROC_DIR": str(self.dir / "prometheus"),
            **(env or {}),
        }
        self.process = None
        self.killed_at: float | None = None

    def _commands(self) -> dict[str, list[str]]:
        commands = {
            "web": [
                sys.executable, "-m", "gunicorn", "config.wsgi", "--bind",
                f"127.0.0.1:{self.port}", "--workers", "1", "--access-logfile", "-",
            ],
        }  # fmt: skip
        for group, kinds in self.groups.items():
            commands[group] = [
                sys.executable, "-m", "tests.worker_boot", "-A", "config", "worker",
                "--hostname", f"{group}@{self.name}",
                "--queues", ",".join(f"{self.prefix}{kind}" for kind in kinds),
                "--pool", "prefork", "--concurrency", "1",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "info",
            ]  # fmt: skip
        return commands

    def log_path(self, process: str) -> Path:
        return self.dir / f"{process}.log"

    def log_text(self, process: str) -> str:
        path = self.log_path(process)
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        """Start every process of the host (as its init system would) without waiting."""
        import subprocess

        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "prometheus").mkdir()
        script = "\n".join(
            f"{shlex.join(argv)} >{shlex.quote(str(self.log_path(name)))} 2>&1 &"
            for name, argv in self._commands().items()
        )
        self.process = subprocess.Popen(
            ["/bin/sh", "-c", f"{script}\nwait"], cwd=ROOT, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def wait_until_ready(self, timeout: float = BOOT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        waiting = {"web", *self.groups}
        while waiting and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"host {self.name} exited early:\n{self.logs()}")
            for group in list(waiting):
                if group == "web":
                    with (
                        suppress(OSError),
                        socket.create_connection(("127.0.0.1", self.port), timeout=1),
                    ):
                        waiting.discard(group)
                elif "ready." in self.log_text(group):
                    waiting.discard(group)
            time.sleep(0.2)
        if waiting:
            raise RuntimeError(f"host {self.name}: {sorted(waiting)} not up:\n{self.logs()}")

    def kill(self) -> float:
        """SIGKILL the host's whole process group at once; return the moment (monotonic)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.killed_at = time.monotonic()
        left = wait_until_session_empty(self.process.pid, timeout=10)
        assert not left, f"host {self.name}: {left} outlived kill -9 of the group"
        self.process.wait(timeout=10)
        return self.killed_at

    def stop(self) -> None:
        if self.process is not None:
            kill_session(self.process.pid)
            with suppress(Exception):
                self.process.wait(timeout=10)

    def received(self, task_name: str, group: str) -> int:
        """Count the deliveries of ``task_name`` to the host's worker of ``group``."""
        pattern = rf"Task {re.escape(task_name)}\[[0-9a-f-]+\] received"
        return len(re.findall(pattern, self.log_text(group)))

    def succeeded(self, task_name: str, group: str) -> int:
        pattern = rf"Task {re.escape(task_name)}\[[0-9a-f-]+\] succeeded"
        return len(re.findall(pattern, self.log_text(group)))

    def post(self, path: str, body: dict, *, token: str) -> tuple[int, dict]:
        """POST JSON to the host's web process; return (status, JSON answer)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {self.name}/{name}\n{self.log_text(name)[-3000:]}"
            for name in ["web", *self.groups]
        )


@contextmanager
def hosts(*names: str, groups: dict[str, tuple[str, ...]], env: dict | None = None,
          patches: dict | None = None):  # fmt: skip
    """Yield ``Host``s named ``names`` sharing a private queue prefix, booted side by side.

    Meanwhile the test process sends its tasks to those queues rather than
    running them. Whatever is left of the hosts is SIGKILLed at the end,
    passing or failing.
    """
    prefix = f"hosts-{uuid.uuid4().hex[:8]}."
    started = [Host(name, prefix=prefix, groups=groups, env=env, patches=patches) for name in names]
    with ExitStack() as stack:
        stack.enter_context(publishing_to(worker_broker_url()))
        stack.enter_context(sending_to(prefix, default_queue=f"{prefix}default"))
        for host in started:
            stack.callback(host.stop)
            host.start()
        for host in started:
            host.wait_until_ready()
        yield started

"""``make run``: the embedded Redis, the setup commands, then the Procfile's processes.

    python -m config.supervisor [--setup COMMAND]... [PROCESS ...]

(default: web, the three worker groups, beat)

Why not honcho: it stops every process when one exits, and on stop it signals
the shell it started a process through rather than the process itself, so a
Celery worker still in its warm shutdown outlived ``make run``, detached, and
went on consuming beside the next run's worker. Here:

- Each process runs in a process group of its own: a terminal's Ctrl-C
  reaches only this supervisor, which stops everything in order. Each also
  gets SIGKILL from the kernel should the supervisor itself die
  (``PR_SET_PDEATHSIG``, Linux), so nothing outlives it even then.
- A process that exits is started again, backing off from 1 to 30 seconds:
  a crashed worker comes back while web goes on serving.
- SIGTERM, SIGINT or SIGHUP stops the run: SIGTERM to each process (a worker
  finishes its running tasks), SIGQUIT to a worker still busy after
  ``STOP_GRACE_SECONDS`` (Celery's cold shutdown hands its tasks back to the
  queue), SIGKILL to every group left after ``COLD_SHUTDOWN_SECONDS`` more.
  Redis stops last, once everything the others acknowledged or handed back
  is in it. A second signal skips the waiting.
- With the embedded Redis (no ``CELERY_BROKER_URL``) the supervised workers
  are the broker's only consumers, so a message a worker held when it died
  (tasks are ``acks_late``: kombu keeps it as unacknowledged until the
  visibility timeout, 35 minutes) is handed back to its queue before the
  next worker starts, provided no running worker consumes that queue (the
  worker groups' ``--queues`` do not overlap: a live worker's message is
  never handed out twice). Against an external Redis other workers may
  share the queue, so such a message waits for the visibility timeout as in
  production.

Commands come from the ``Procfile`` (with ``${VAR:-default}`` expanded), so
they are the ones a platform running the Procfile uses. Each process's pid is
in ``var/run/<name>.pid`` while it runs; a lock there refuses a second
supervisor on the same ``var/``.

Plain Python without Django: nothing here holds a database connection.
"""

import argparse
import contextlib
import ctypes
import fcntl
import os
import re
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from config.embedded_redis import SUPERVISED_ENV, EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROCESSES = ("web", "worker", "worker_ledger", "worker_settlement", "beat")

# SIGTERM to SIGQUIT (workers) and from there to SIGKILL: the two add up to
# what a stop may take, well inside the 15 s a process manager usually grants.
STOP_GRACE_SECONDS = 7.0
COLD_SHUTDOWN_SECONDS = 3.0
REDIS_STOP_SECONDS = 5.0
RESTART_BACKOFF_SECONDS = (1, 2, 4, 8, 16, 30)
# A process that ran this long had recovered: its next exit starts the backoff over.
HEALTHY_AFTER_SECONDS = 30.0
POLL_SECONDS = 0.2
HURRY_AFTER_SECONDS = 1.0

PR_SET_PDEATHSIG = 1
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
except (OSError, AttributeError):
    _prctl = None


def var_dir() -> Path:
    """Return the folder of the run's state, as the settings compute it."""
    return Path(os.environ.get("VAR_DIR") or ROOT / "var")


def running_pid(name: str, *, var: Path | None = None) -> int | None:
    """Return the pid of the supervised process ``name`` (e.g. ``worker``), if one runs."""
    try:
        return int((((var or var_dir()) / "run") / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None


def procfile_commands(path: Path, environ: dict) -> dict[str, list[str]]:
    """Return the Procfile's processes as argv lists, ``$VAR`` and ``${VAR:-default}`` expanded."""

    def expand(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        return environ.get(name) or (match.group(2) or "")

    commands = {}
    for line in path.read_text().splitlines():
        if found := re.fullmatch(r"([A-Za-z0-9_-]+):\s*(.+)", line.strip()):
            expanded = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", expand, found.group(2))
            commands[found.group(1)] = shlex.split(expanded)
    return commands


def requeue_unacknowledged(broker_url: str, *, keep_queues: set[str] | None = None) -> int:
    """Hand unacknowledged messages back to their queues; return how many.

    Messages of ``keep_queues`` (the queues a running worker consumes) stay:
    that worker may be running them. ``None`` keeps nothing back, which is
    only safe while no worker consumes at all.
    """
    from kombu import Connection  # only the embedded path needs kombu here
    from kombu.utils.json import loads

    with Connection(broker_url) as connection:
        channel = connection.default_channel
        client = channel.client
        restored = 0
        for tag, entry in client.hgetall(channel.unacked_key).items():
            if keep_queues:
                # kombu's entry: [message, exchange, routing key]; the default
                # exchange routes by the queue's name.
                _message, _exchange, routing_key = loads(entry)
                if routing_key in keep_queues:
                    continue
            # kombu's own restore: back onto the queue (its consuming end) in
            # one transaction with the removal from the unacknowledged hash.
            channel.qos.restore_by_tag(tag, client=client)
            restored += 1
        return restored


def worker_queues(argv: list[str]) -> set[str] | None:
    """Return the queues a ``celery worker`` command line consumes; None for every queue."""
    for index, arg in enumerate(argv):
        if arg in ("--queues", "-Q") and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--queues="):
            value = arg.removeprefix("--queues=")
        elif arg.startswith("-Q"):
            value = arg.removeprefix("-Q")
        else:
            continue
        return {queue for queue in value.split(",") if queue}
    return None


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None
    pending: bytes = b""

    @property
    def running(self) -> bool:
        """Whether the process has not exited.

        An exited process is left unreaped (``Supervisor._reap``) so that its
        pid, and so its process group's id, cannot be reused by another
        process before the group's leftovers are killed.
        """
        if self.process is None or self.process.returncode is not None:
            return False
        if not hasattr(os, "waitid"):  # macOS
            return self.process.poll() is None
        try:
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.process.pid, flags) is None
        except ChildProcessError:
            return False

    @property
    def is_worker(self) -> bool:
        return self.name.startswith("worker")


class Supervisor:
    def __init__(self, names, *, setup=(), procfile=ROOT / "Procfile", output=None, environ=None):
        self.environ = dict(os.environ if environ is None else environ)
        self.var = Path(self.environ.get("VAR_DIR") or ROOT / "var")
        self.embedded = (
            None if self.environ.get("CELERY_BROKER_URL") else EmbeddedRedis(self.var / "redis")
        )
        bin_dir = str(Path(sys.executable).parent)
        self.child_env = {
            **self.environ,
            "PATH": os.pathsep.join([bin_dir, self.environ.get("PATH", "")]),
            # Lines reach the log as they are written, not when a buffer fills.
            "PYTHONUNBUFFERED": "1",
        }
        if self.embedded:
            self.child_env[SUPERVISED_ENV] = "1"
        commands = procfile_commands(Path(procfile), self.child_env)
        unknown = [name for name in names if name not in commands]
        if unknown:
            raise SystemExit(f"not in the Procfile: {', '.join(unknown)}")
        # A setup step is a Procfile process (``release``) or a command line.
        self.setup = [commands.get(step) or shlex.split(step) for step in setup]
        self.children = [Child(name, commands[name]) for name in names]
        self.redis = Child("redis", self.embedded.command()) if self.embedded else None
        self.output = output or sys.stdout.buffer
        self.selector = selectors.DefaultSelector()
        self.stop_requested = 0
        self.stop_requested_at = 0.0
        self.hurry = False
        self.web_announced = "web" not in names

    # Signals --------------------------------------------------------------

    def _on_signal(self, signum, _frame) -> None:
        now = time.monotonic()
        # A second Ctrl-C skips the waiting. A second signal within the
        # second is not one: make passes its own SIGTERM or SIGINT on to
        # this process, which already had the one sent to the whole group.
        if self.stop_requested and now - self.stop_requested_at > HURRY_AFTER_SECONDS:
            self.hurry = True
        if not self.stop_requested:
            self.stop_requested, self.stop_requested_at = signum, now

    # Output ---------------------------------------------------------------

    def say(self, name: str, text: str) -> None:
        try:
            for line in text.splitlines() or [""]:
                self.output.write(f"{time.strftime('%H:%M:%S')} {name:<7}| {line}\n".encode())
            self.output.flush()
        except (OSError, ValueError):
            pass  # the terminal is gone (SIGHUP): stopping must go on regardless

    def _pump(self, timeout: float) -> None:
        """Copy children's output, prefixed with their names, for up to ``timeout`` seconds."""
        if not self.selector.get_map():
            time.sleep(timeout)
            return
        for key, _events in self.selector.select(timeout):
            child = key.data
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.selector.unregister(key.fd)
                os.close(key.fd)
                if child.pending:
                    self.say(child.name, child.pending.decode(errors="replace"))
                    child.pending = b""
                continue
            *lines, child.pending = (child.pending + chunk).split(b"\n")
            if lines:
                self.say(child.name, b"\n".join(lines).decode(errors="replace"))

    # Processes ------------------------------------------------------------

    def _start(self, child: Child) -> None:
        supervisor_pid = os.getpid()

        def in_own_group_dying_with_supervisor():
            # Runs in the child between fork and exec; the supervisor is
            # single-threaded, so this is safe.
            os.setpgid(0, 0)
            if _prctl is not None:
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != supervisor_pid:  # died before the line above took hold
                os._exit(1)

        read_end, write_end = os.pipe()
        try:
            child.process = subprocess.Popen(  # noqa: S603 - the Procfile's and Makefile's commands
                child.argv, cwd=ROOT, env=self.child_env, stdin=subprocess.DEVNULL,
                stdout=write_end, stderr=write_end,
                preexec_fn=in_own_group_dying_with_supervisor,
            )  # fmt: skip
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        self.selector.register(read_end, selectors.EVENT_READ, child)
        child.started_at = time.monotonic()
        child.restart_at = None
        self._pid_file(child).write_text(str(child.process.pid))

    def _pid_file(self, child: Child) -> Path:
        return self.var / "run" / f"{child.name}.pid"

    def _signal(self, child: Child, signum: int, *, group: bool = False) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(child.process.pid, signum)
            else:
                child.process.send_signal(signum)

    def _reap(self, child: Child) -> None:
        """Clean up after ``child`` exited: its group's leftovers, its exit status, its pid file."""
        if child.process.returncode is None:
            # A worker's pool or gunicorn's workers may outlive their leader.
            self._signal(child, signal.SIGKILL, group=True)
            child.process.wait()
        with contextlib.suppress(FileNotFoundError):
            self._pid_file(child).unlink()

    def _describe_exit(self, child: Child) -> str:
        code = child.process.returncode
        return f"exited by signal {signal.Signals(-code).name}" if code < 0 else f"exited ({code})"

    def _check(self, children) -> None:
        """Notice exits, schedule restarts with backoff, start what is due."""
        now = time.monotonic()
        for child in children:
            if child.process is not None and child.restart_at is None and not child.running:
                self._reap(child)
                lived = now - child.started_at
                child.quick_exits = 0 if lived >= HEALTHY_AFTER_SECONDS else child.quick_exits + 1
                delay = RESTART_BACKOFF_SECONDS[
                    min(max(child.quick_exits - 1, 0), len(RESTART_BACKOFF_SECONDS) - 1)
                ]
                child.restart_at = now + delay
                self.say(
                    "system", f"{child.name} {self._describe_exit(child)}; restarting in {delay} s"
                )
                if child.is_worker:
                    self._requeue_orphaned()
            if child.restart_at is not None and now >= child.restart_at:
                if child is self.redis:
                    self._start_redis()
                else:
                    self._start(child)

    def _requeue_orphaned(self) -> None:
        """Hand back the unacknowledged messages of queues no running worker consumes."""
        if not self.embedded:
            return
        keep: set[str] = set()
        for child in self.children:
            if child.is_worker and child.running:
                queues = worker_queues(child.argv)
                if queues is None:  # it consumes everything: nothing is orphaned
                    return
                keep |= queues
        try:
            count = requeue_unacknowledged(self.embedded.broker_url, keep_queues=keep or None)
        except Exception as error:  # a restart or a stop must not wait on this
            self.say("system", f"could not hand back unacknowledged messages: {error!r}")
            return
        if count:
            self.say("system", f"handed {count} unacknowledged message(s) back to the queue")

    def _start_redis(self) -> None:
        if self.embedded.is_up():
            raise SystemExit(
                f"a Redis answers on {self.embedded.socket_path} already: "
                f"another run uses {self.var}"
            )
        self._start(self.redis)
        deadline = time.monotonic() + 10
        while not self.embedded.is_up():
            self._pump(0.05)
            if not self.redis.running or time.monotonic() > deadline:
                raise SystemExit("the embedded Redis did not start (its output is above)")

    def _announce_web(self) -> None:
        host = self.child_env.get("HOST") or "127.0.0.1"
        port = int(self.child_env.get("PORT") or 8000)
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            self.web_announced = True
            base = f"http://{host}:{port}"
            self.say(
                "system",
                f"web is up: {base}/admin/ (admin), {base}/api/v1/ (API, docs at /api/docs/)",
            )

    def _run_setup(self, argv: list[str]) -> int:
        child = Child("setup", argv)
        self._start(child)
        while child.running:
            if self.stop_requested:
                break
            self._pump(POLL_SECONDS)
        self._stop([child])
        return child.process.returncode

    def _wait(self, children, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while any(c.running for c in children) and time.monotonic() < deadline:
            if self.hurry:
                return
            self._pump(0.05)

    def _stop(self, children, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop ``children``: SIGTERM, SIGQUIT to busy workers, SIGKILL to what is left."""
        running = [c for c in children if c.running]
        for child in running:
            self._signal(child, signal.SIGTERM)
        self._wait(running, grace)
        busy_workers = [c for c in running if c.running and c.is_worker]
        for child in busy_workers:
            self.say("system", f"{child.name} still busy: cold shutdown (its tasks go back)")
            self._signal(child, signal.SIGQUIT)
        self._wait(busy_workers, COLD_SHUTDOWN_SECONDS)
        for child in running:
            if child.running:
                self.say("system", f"{child.name} did not stop: SIGKILL to its process group")
        for child in children:
            if child.process is not None:
                self._reap(child)

    def _stop_all(self) -> None:
        self._stop(self.children)
        if self.redis is not None and self.redis.running:
            # After a warm or cold shutdown nothing is left unacknowledged;
            # after a SIGKILL, what the worker held goes back now, so it is
            # in the append-only file as queued work for the next run.
            self._requeue_orphaned()
            self._stop([self.redis], grace=REDIS_STOP_SECONDS)
        self._pump(0)

    # The run --------------------------------------------------------------

    def run(self) -> int:
        (self.var / "run").mkdir(parents=True, exist_ok=True)
        lock = open(self.var / "run" / "supervisor.lock", "a+")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise SystemExit(
                f"another run (pid {lock.read().strip() or '?'}) uses {self.var}: stop it first"
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            return self._run()
        finally:
            self._stop_all()
            self.say("system", "stopped")
            lock.close()

    def _metrics_files_clear(self) -> None:
        # prometheus-client's multiprocess files of the previous run's processes
        # (see apps.core.observability): a new run counts from zero.
        folder = Path(self.environ.get("PROMETHEUS_MULTIPROC_DIR") or self.var / "prometheus")
        for path in folder.glob("*.db"):
            with contextlib.suppress(OSError):
                path.unlink()

    def _run(self) -> int:
        self._metrics_files_clear()
        if self.embedded:
            self.say("system", f"embedded Redis on {self.embedded.socket_path}")
            self._start_redis()
            # Messages a worker of an earlier run held when it was killed
            # (with its supervisor, say) are in the append-only file.
            self._requeue_orphaned()
        for argv in self.setup:
            if self.stop_requested:
                return 0
            self.say("system", f"running {shlex.join(argv)}")
            code = self._run_setup(argv)
            if code != 0 and not self.stop_requested:
                self.say("system", f"{shlex.join(argv)} failed ({code}): stopping")
                return code
        for child in self.children:
            if not self.stop_requested:
                self._start(child)
        supervised = [self.redis, *self.children] if self.redis else self.children
        while not self.stop_requested:
            self._pump(POLL_SECONDS)
            self._check(supervised)
            if not self.web_announced:
                self._announce_web()
        self.say("system", f"{signal.Signals(self.stop_requested).name}: stopping")
        return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.supervisor", description=__doc__)
    parser.add_argument(
        "--setup", action="append", default=[], metavar="COMMAND",
        help="a Procfile process or a command to run to completion first, with Redis up "
        "(repeatable, in order)",
    )  # fmt: skip
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    parser.add_argument("processes", nargs="*", default=list(DEFAULT_PROCESSES))
    args = parser.parse_args(argv)
    return Supervisor(args.processes, setup=args.setup, procfile=args.procfile).run()


if __name__ == "__main__":
    sys.exit(main())

"""Start whole process trees in a session of their own; find and kill what is left of them."""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path


def session_pids(session_id: int) -> list[int]:
    """Return the pids of every live process of the session ``session_id`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, session. A zombie is
        # gone already, waiting only for its parent to read its status.
        if int(fields[3]) == session_id and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def wait_until_session_empty(session_id: int, timeout: float) -> list[int]:
    """Wait up to ``timeout`` seconds for the session to empty; return what is left."""
    deadline = time.monotonic() + timeout
    while (left := session_pids(session_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def kill_session(session_id: int) -> None:
    for pid in session_pids(session_id):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def process_session(argv: list[str], *, log: Path, **popen):
    """Run ``argv`` as the leader of a new session (as a terminal runs a command).

    Yields the Popen; whatever of the session is still alive at the end,
    passing or failing, is SIGKILLed.
    """
    with open(log, "wb") as output:
        process = subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **popen,
        )  # fmt: skip
    try:
        yield process
    finally:
        kill_session(process.pid)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_text(path: Path, text: str, *, timeout: float, count: int = 1) -> str:
    """Wait until ``path`` contains ``text`` ``count`` times; return its content."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace") if path.exists() else ""
        if content.count(text) >= count:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not seen {count}× within {timeout}s in:\n{content}")

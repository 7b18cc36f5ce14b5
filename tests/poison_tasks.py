"""A task that kills the worker process running it, every time (loaded by test workers only)."""

import os
import signal

from celery import shared_task

from apps.core.services import heartbeat_record

KILL_OWN_WORKER = "tests.kill_own_worker"


@shared_task(name=KILL_OWN_WORKER)
def kill_own_worker(marker: str) -> None:
    """Record that it ran, then SIGKILL its own process, as an out-of-memory kill would."""
    heartbeat_record(source=marker)
    os.kill(os.getpid(), signal.SIGKILL)

"""A Celery app with one slow task for the supervisor tests: no Django, VAR_DIR's embedded Redis."""

import os
import time
from pathlib import Path

from celery import Celery

from config.embedded_redis import EmbeddedRedis

app = Celery(
    "slow",
    # Imported by the tests too, where the project's app must stay the current one.
    set_as_current=False,
    # The worker's: the supervisor's embedded Redis (a publisher passes its own connection).
    broker=EmbeddedRedis(Path(os.environ.get("VAR_DIR", "var")) / "redis").broker_url,
    # As the project's tasks: acknowledged when they end, one at a time.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
)


@app.task(name="slow.sleep")
def sleep(seconds: float) -> None:
    print("slow task started", flush=True)  # the worker logs a task's output
    time.sleep(seconds)

"""Shared rules for Celery entry points."""

import logging

from django.core.cache import cache
from django.db import OperationalError

logger = logging.getLogger(__name__)

# Transient database trouble (a lock wait, a deadlock victim, a dropped
# connection) is retried with backoff; nothing else is, so a bad message can
# never loop forever.
TRANSIENT_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 6,
}


def id_from_message(value, *, task: str, field: str) -> int | None:
    """Return ``value`` if it is a positive integer id; else log the malformed message, None.

    Messages are JSON, so an id arrives as an integer: anything else (a string,
    a float, a boolean) is malformed.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    logger.error("%s: dropping malformed message, %s=%r", task, field, value)
    return None


# Tasks sent once per sign-up or order: storing each success as a result row
# (django-celery-results) costs the worker about as much as the task's own
# work when it finds nothing left to do, and nobody reads those rows; the
# state lives in the rows the task writes. Failures are still stored.
PER_ITEM_RESULTS = {"ignore_result": True, "store_errors_even_if_ignored": True}

# A coalesced run starts this long after it is queued, so that under load each
# run gathers a second of items: a batch has a fixed cost (store index, guide
# loads, locks, a dozen statements) that a handful of items would not repay.
COALESCED_RUN_DELAY_SECONDS = 1.0
# A queued coalesced run holds its key at most this long: should its message be
# lost, the next item queues a fresh run then (the periodic sweeps and the
# settlement run's catch-up cover what falls in between).
COALESCED_KEY_SECONDS = 30


def task_queue_coalesced(task, *, key: str, args: tuple = ()) -> bool:
    """Queue ``task`` unless a run of it is queued and not yet started; call on commit.

    The run clears ``key`` (``coalesced_run_start``) before it reads its work:
    an item committed before that is seen by the run, and an item committed
    after finds the key gone and queues the next run. Returns whether a run
    was queued.
    """
    if cache.add(key, 1, timeout=COALESCED_KEY_SECONDS):
        task.apply_async(args=args, countdown=COALESCED_RUN_DELAY_SECONDS)
        return True
    return False


def coalesced_run_start(key: str) -> None:
    """Let items committed from now on queue the next run (see ``task_queue_coalesced``)."""
    cache.delete(key)

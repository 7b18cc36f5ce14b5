"""Queueing and running Celery tasks: the one seam between services and task modules.

Services never import a task module (task modules import services): they
queue work by the task's registered name through ``task_enqueue``, which
sends it once the surrounding transaction commits. Task modules share the
retry policy and the checks of incoming messages defined here.
"""

import logging
from functools import partial

from celery import current_app, shared_task
from django.core.cache import cache
from django.db import OperationalError, transaction

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


def task_enqueue(name: str, *args, countdown: float | None = None) -> None:
    """Queue the task registered as ``name`` when the current transaction commits.

    Outside a transaction it is queued at once. Nothing is sent for a
    transaction that rolls back.
    """
    transaction.on_commit(partial(_send, name, args, countdown))


def task_enqueue_coalesced(name: str, *, key: str, args: tuple = ()) -> None:
    """Queue a run of ``name`` on commit, unless one is queued and not yet started.

    The run clears ``key`` (``coalesced_run_start``) before it reads its work:
    an item committed before that is seen by the run, and an item committed
    after finds the key gone and queues the next run.
    """
    transaction.on_commit(partial(_send_coalesced, name, key, args))


def _send(name: str, args: tuple, countdown: float | None) -> None:
    # Looked up by name at send time, with the task's own options. Web
    # processes import no task module until they first send one; the registry
    # then raises for a name no task module declares, so a typo fails the
    # first test that queues it.
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    current_app.tasks[name].apply_async(args=args, countdown=countdown)


def _send_coalesced(name: str, key: str, args: tuple) -> None:
    if cache.add(key, 1, timeout=COALESCED_KEY_SECONDS):
        _send(name, args, COALESCED_RUN_DELAY_SECONDS)


def coalesced_run_start(key: str) -> None:
    """Let items committed from now on queue the next run (see ``task_enqueue_coalesced``)."""
    cache.delete(key)


def id_from_message(value, *, task: str, field: str) -> int | None:
    """Return ``value`` if it is a positive integer id; else log the malformed message, None.

    Messages are JSON, so an id arrives as an integer: anything else (a string,
    a float, a boolean) is malformed.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    logger.error("%s: dropping malformed message, %s=%r", task, field, value)
    return None


def call_with_message_id(task, service, **message):
    """Call ``service`` with the one id a message carries; drop a malformed message.

    ``message`` is the id's field and value (``store_id=5``). Returns what the
    service returns, or None for a dropped message.
    """
    ((field, value),) = message.items()
    object_id = id_from_message(value, task=task.name, field=field)
    return None if object_id is None else service(**{field: object_id})


def renamed_task(*, name: str, old_name: str, **options):
    """Declare the task ``name`` (``shared_task``) also under the name it had before a rename.

    Messages queued by the previous release, and beat rows not yet migrated,
    still name the old task; they run the same function. Drop the old name a
    release after the rename.
    """

    def register(fun):
        shared_task(name=old_name, **options)(fun)
        return shared_task(name=name, **options)(fun)

    return register

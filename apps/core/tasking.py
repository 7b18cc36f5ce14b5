"""Queueing and running Celery tasks: the one seam between services and task modules.

Services never import a task module (task modules import services): they
queue work by the task's registered name through ``task_enqueue``, which
sends it once the surrounding transaction commits. Task modules share the
retry policy and the checks of incoming messages defined here.

When the broker refuses a message (Redis down), the work is already
committed: the caller gets its normal answer and the message is kept in the
outbox table (``OutboxMessage``), which ``outbox_drain`` sends once the
broker is back (beat runs it every 30 seconds, and every worker at start).
"""

import logging
import threading
from functools import partial

from celery import current_app, shared_task
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models import F
from kombu.exceptions import KombuError

from apps.core.models import OutboxMessage

logger = logging.getLogger(__name__)

# What a send raises when the broker cannot be reached (Celery retries the
# connection a few times, about a second and a half, before it gives up).
BROKER_ERRORS = (KombuError, OSError)
_registry_lock = threading.Lock()
# Messages sent per transaction by outbox_drain.
OUTBOX_DRAIN_BATCH = 500

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


def _send(
    name: str, args: tuple, countdown: float | None, *, coalesce_key: str | None = None
) -> None:
    try:
        _publish(name, args, countdown)
    except BROKER_ERRORS as exc:
        # Run on commit: the work is saved and the caller must hear so. The
        # message waits in the outbox until the broker is back.
        logger.warning("broker unavailable, %s%r kept in the outbox: %s", name, args, exc)
        _outbox_keep(name, args, coalesce_key=coalesce_key, error=exc)


def _publish(name: str, args: tuple, countdown: float | None, kwargs: dict | None = None) -> None:
    # Looked up by name at send time, with the task's own options. Web
    # processes import no task module until they first send one; the registry
    # then raises for a name no task module declares, so a typo fails the
    # first test that queues it.
    if name not in current_app.tasks:
        # Once per process; threads sending at once wait for the one importing.
        with _registry_lock:
            if name not in current_app.tasks:
                current_app.loader.import_default_modules()
    current_app.tasks[name].apply_async(args=args, kwargs=kwargs, countdown=countdown)


def task_send_now(name: str, args: tuple, kwargs: dict | None = None) -> None:
    """Send the task registered as ``name`` at once; raise ``BROKER_ERRORS`` if refused.

    For a person's action (retrying a parked message), who must hear when
    the broker is away rather than find the work silently kept for later.
    """
    _publish(name, args, None, kwargs)


def _outbox_keep(name: str, args: tuple, *, coalesce_key: str | None, error: Exception) -> None:
    # A coalesced run is kept once: the run serves every item waiting when it
    # starts, and the first message (the lowest order id) starts furthest back.
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(task=name, args=list(args), coalesce_key=coalesce_key,
                       last_error=str(error)[:1000])],
        ignore_conflicts=True,
    )  # fmt: skip


def _send_coalesced(name: str, key: str, args: tuple) -> None:
    try:
        queued_now = cache.add(key, 1, timeout=COALESCED_KEY_SECONDS)
    except Exception:  # any cache failure: send, as without coalescing
        logger.warning("cache unavailable, sending %s without coalescing", name, exc_info=True)
        queued_now = True
    if queued_now:
        _send(name, args, COALESCED_RUN_DELAY_SECONDS, coalesce_key=key)


def coalesced_run_start(key: str) -> None:
    """Let items committed from now on queue the next run (see ``task_enqueue_coalesced``)."""
    try:
        cache.delete(key)
    except Exception:  # the key expires by itself (COALESCED_KEY_SECONDS)
        logger.warning("cache unavailable, %s left to expire", key, exc_info=True)


def outbox_drain() -> int:
    """Send the outbox's messages, oldest first; return how many were sent.

    Stops at the first message the broker refuses again (it is still away):
    the rest wait for the next drain. A message is deleted once sent, in the
    transaction that locked it (SKIP LOCKED: two drains never send one
    message twice at once; should the delete be lost, the idempotent task
    runs twice, harmlessly).
    """
    sent, after = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                OutboxMessage.objects.filter(pk__gt=after)
                .select_for_update(skip_locked=True)
                .order_by("pk")[:OUTBOX_DRAIN_BATCH]
            )
            if not batch:
                return sent
            done, refused = [], None
            for message in batch:
                try:
                    _publish(message.task, tuple(message.args), None)
                except BROKER_ERRORS as exc:
                    refused = (message, exc)
                    break
                except KeyError:
                    # A task no release declares any more: kept for a person to look at.
                    logger.error("outbox: no task named %s, message %s kept", message.task,
                                 message.pk)  # fmt: skip
                    continue
                done.append(message.pk)
            OutboxMessage.objects.filter(pk__in=done).delete()
            sent += len(done)
            if refused is not None:
                message, exc = refused
                OutboxMessage.objects.filter(pk=message.pk).update(
                    attempts=F("attempts") + 1, last_error=str(exc)[:1000]
                )
                logger.warning("outbox: broker still unavailable, %s sent so far", sent)
                return sent
            after = batch[-1].pk


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

"""Celery entry points of the ground floor."""

import logging

from celery import shared_task
from celery.signals import worker_ready

from apps.core.services import heartbeat_record
from apps.core.tasking import TRANSIENT_RETRY, coalesced_run_start, outbox_drain, renamed_task
from apps.core.webhooks import WEBHOOKS_SEND, WEBHOOKS_SEND_KEY, webhook_deliveries_send

logger = logging.getLogger(__name__)

OUTBOX_DRAIN = "core.outbox_drain"


# Named apps.core.tasks.heartbeat before the release of 2026-12.
@renamed_task(old_name="apps.core.tasks.heartbeat", name="core.heartbeat")
def heartbeat(source: str = "beat") -> int:
    """Record that a worker processed a message; returns the heartbeat id."""
    return heartbeat_record(source=source).pk


@shared_task(name=OUTBOX_DRAIN, **TRANSIENT_RETRY)
def outbox_drain_task() -> int:
    """Send the task messages the broker refused during an outage; returns how many."""
    return outbox_drain()


@shared_task(name=WEBHOOKS_SEND, **TRANSIENT_RETRY)
def webhook_deliveries_send_task() -> int:
    """Post the webhook deliveries that are due; returns how many were delivered."""
    coalesced_run_start(WEBHOOKS_SEND_KEY)
    return webhook_deliveries_send()


@worker_ready.connect(dispatch_uid="core_outbox_drain_on_worker_start")
def _drain_outbox_on_start(sender, **kwargs):
    # A worker starting is often the broker coming back: drain at once rather
    # than wait for beat's next run.
    try:
        outbox_drain_task.delay()
    except Exception:  # beat's periodic drain follows anyway
        logger.warning("outbox: could not queue a drain at worker start", exc_info=True)

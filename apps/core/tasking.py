"""Shared rules for Celery entry points."""

import logging

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
    """Return ``value`` as a positive id, or log the malformed message and return None."""
    if isinstance(value, bool):
        value = None
    try:
        parsed = int(value)
    except (TypeError, ValueError):
        parsed = 0
    if parsed <= 0 or str(parsed) != str(value).strip():
        logger.error("%s: dropping malformed message, %s=%r", task, field, value)
        return None
    return parsed

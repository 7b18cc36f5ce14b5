"""Celery entry points of the ground floor."""

from apps.core.services import heartbeat_record
from apps.core.tasking import renamed_task


# Named apps.core.tasks.heartbeat before the release of 2026-12.
@renamed_task(old_name="apps.core.tasks.heartbeat", name="core.heartbeat")
def heartbeat(source: str = "beat") -> int:
    """Record that a worker processed a message; returns the heartbeat id."""
    return heartbeat_record(source=source).pk

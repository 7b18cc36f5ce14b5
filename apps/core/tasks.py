from celery import shared_task

from apps.core.services import heartbeat_record


@shared_task(name="apps.core.tasks.heartbeat")
def heartbeat(source: str = "beat") -> int:
    """Record that a worker processed a message; returns the heartbeat id."""
    return heartbeat_record(source=source).pk

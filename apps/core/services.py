"""Writes of the ground floor: the heartbeat."""

from apps.core.models import Heartbeat


def heartbeat_record(*, source: str) -> Heartbeat:
    """Write a heartbeat row, pruning all but the latest thousand."""
    heartbeat = Heartbeat.objects.create(source=source[:50])
    stale = Heartbeat.objects.order_by("-created_at").values_list("pk", flat=True)[1000:1001]
    if stale:
        Heartbeat.objects.filter(pk__lte=stale[0]).delete()
    return heartbeat

"""How the background jobs are doing: read by HQ's start page and by /metrics alike."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.commissions import task_names as commission_tasks
from apps.core.models import DeadLetter, Heartbeat

FAILED_TASKS_HOURS = 24


@dataclass(frozen=True)
class NightlyRun:
    finished_at: dt.datetime
    status: str
    settlements: str  # the task's result: settlements written, or the error's name


@dataclass(frozen=True)
class JobHealth:
    failed_tasks_24h: int
    parked_messages: int
    last_beat_heartbeat: dt.datetime | None
    last_nightly_run: NightlyRun | None


def job_health() -> JobHealth:
    """Return failed tasks of the last 24 h, parked messages, beat's and the nightly run's last."""
    since = timezone.now() - dt.timedelta(hours=FAILED_TASKS_HOURS)
    nightly = (
        TaskResult.objects.filter(task_name=commission_tasks.SETTLEMENT_RUN_NIGHTLY)
        .exclude(date_done__isnull=True)
        .order_by("-date_done")
        .values("date_done", "status", "result")
        .first()
    )
    return JobHealth(
        failed_tasks_24h=TaskResult.objects.filter(status="FAILURE", date_done__gte=since).count(),
        parked_messages=DeadLetter.objects.filter(status=DeadLetter.Status.PARKED).count(),
        last_beat_heartbeat=Heartbeat.objects.filter(source="beat")
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first(),
        last_nightly_run=NightlyRun(
            finished_at=nightly["date_done"],
            status=nightly["status"],
            settlements=str(nightly["result"] or ""),
        )
        if nightly
        else None,
    )

"""``/metrics``: Prometheus exposition of every process of this host, and of the system's state.

Counters and histograms come from the multiprocess files of this host's web
and Celery processes (``apps.core.observability``); state that belongs to no
process (queue depth, members pending, open settlements, how long ago beat
and the nightly run last showed life) is read at scrape time from Redis and
the database, so every web process of every host answers the same. Scrape
each host's web process for its counters.
"""

import hmac
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from apps.commissions.models import Settlement
from apps.core.queues import QUEUES, queue_name
from apps.customers.models import Membership
from apps.dashboards.health import job_health
from config.celery_app import app as celery_app

logger = logging.getLogger(__name__)


def _age_seconds(moment) -> float:
    return float("nan") if moment is None else (timezone.now() - moment).total_seconds()


class SystemStateCollector:
    """Gauges read at scrape time: queues, members pending, settlements, job health."""

    def collect(self):
        depth = GaugeMetricFamily(
            "scrm_queue_depth", "Task messages waiting in each queue.", labels=["queue"]
        )
        broker_up = GaugeMetricFamily("scrm_broker_up", "1 when the broker answered the scrape.")
        try:
            with celery_app.connection_for_read() as connection:
                # One retry, not Celery's patient reconnecting: a scrape must answer.
                connection.ensure_connection(max_retries=1, interval_start=0.2)
                client = connection.default_channel.client
                for queue in QUEUES:
                    depth.add_metric([queue], client.llen(queue_name(queue)))
            broker_up.add_metric([], 1)
        except Exception:  # the scrape still tells the rest, and that the broker is away
            logger.warning("metrics: broker unavailable", exc_info=True)
            broker_up.add_metric([], 0)
        yield depth
        yield broker_up
        yield GaugeMetricFamily(
            "scrm_members_pending", "Memberships waiting for a store and guide.",
            value=Membership.objects.filter(assignment_status=Membership.Status.PENDING).count(),
        )  # fmt: skip
        yield GaugeMetricFamily(
            "scrm_settlements_open", "Settlements still collecting entries.",
            value=Settlement.objects.filter(status=Settlement.Status.OPEN).count(),
        )  # fmt: skip
        health = job_health()
        yield GaugeMetricFamily(
            "scrm_tasks_failed_24h", "Task results stored as failed in the last 24 hours.",
            value=health.failed_tasks_24h,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "scrm_dead_letters_parked", "Task messages parked for HQ (killed their worker).",
            value=health.parked_messages,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "scrm_beat_heartbeat_age_seconds", "Seconds since beat's last heartbeat (NaN: never).",
            value=_age_seconds(health.last_beat_heartbeat),
        )  # fmt: skip
        run = health.last_nightly_run
        yield GaugeMetricFamily(
            "scrm_nightly_run_age_seconds", "Seconds since the nightly settlement last finished.",
            value=_age_seconds(run.finished_at if run else None),
        )  # fmt: skip


def metrics_allowed(request) -> bool:
    """Whether the caller may read /metrics: an allowed address, or the bearer token."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    # The connecting address: a forwarded header is the caller's to write.
    return request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS


@require_GET
def metrics_view(request):
    """Answer Prometheus's scrape, to allowed callers only."""
    if not metrics_allowed(request):
        return HttpResponseForbidden("metrics: not allowed from here\n")
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    registry.register(SystemStateCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

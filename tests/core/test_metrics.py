"""/metrics (Prometheus), request and task ids in JSON logs, HQ's job health."""

import io
import json
import logging
import subprocess
import sys

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from apps.core.models import DeadLetter
from apps.core.observability import JsonFormatter, RequestIdFilter, request_id_var
from apps.core.services import dead_letter_park
from apps.core.tasks import heartbeat
from apps.customers.models import Membership
from tests.factories import PendingMembershipFactory
from tests.worker import ROOT


def _samples(response) -> dict:
    """Parse the exposition format: {(name, frozenset(labels)): value}."""
    assert response.status_code == 200, response.content
    text = response.content.decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _task_count(samples, task: str, outcome: str) -> float:
    return samples.get(("scrm_tasks_total", frozenset({("task", task), ("outcome", outcome)})), 0)


@pytest.mark.django_db
def test_a_scrape_parses_and_a_task_counter_moves(client):
    before = _samples(client.get("/metrics"))

    heartbeat.delay("metrics-test")  # run inline in tests, through Celery's tracer

    after = _samples(client.get("/metrics"))
    for outcome in ("started", "succeeded"):
        moved = _task_count(after, "core.heartbeat", outcome) - _task_count(
            before, "core.heartbeat", outcome
        )
        assert moved == 1, outcome
    assert after[("scrm_task_duration_seconds_count", frozenset({("task", "core.heartbeat")}))] >= 1


@pytest.mark.django_db
def test_the_scrape_reports_state_read_from_the_database_and_request_latency(client):
    PendingMembershipFactory.create_batch(2)
    dead_letter_park(task_id="t1", task="core.heartbeat", args=[], kwargs={}, queue="default",
                     deliveries=4, error="WorkerLostError")  # fmt: skip
    client.get("/health/")

    samples = _samples(client.get("/metrics"))

    pending = Membership.objects.filter(assignment_status=Membership.Status.PENDING).count()
    assert samples[("scrm_members_pending", frozenset())] == pending == 2
    assert samples[("scrm_dead_letters_parked", frozenset())] == 1
    assert samples[("scrm_settlements_open", frozenset())] == 0
    broker_up = samples[("scrm_broker_up", frozenset())]
    assert (("scrm_queue_depth", frozenset({("queue", "assignment")})) in samples) == broker_up
    health = frozenset({("view", "health"), ("method", "GET"), ("status", "200")})
    assert samples[("scrm_http_request_duration_seconds_count", health)] >= 1


@pytest.mark.django_db
def test_metrics_are_served_to_allowed_addresses_or_the_bearer_token_only(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.9"]
    settings.METRICS_TOKEN = "s3cret-token"

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.0.0.9").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.9").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


@pytest.mark.django_db
def test_a_request_id_is_echoed_and_a_bad_one_replaced(client):
    given = client.get("/health/", HTTP_X_REQUEST_ID="req-123")
    bad = client.get("/health/", HTTP_X_REQUEST_ID="<script>")

    assert given["X-Request-ID"] == "req-123"
    assert bad["X-Request-ID"] != "<script>" and len(bad["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    token = request_id_var.set("req-9")
    try:
        logger.warning("member %s joined", "m1")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue())
    assert line["message"] == "member m1 joined"
    assert (line["level"], line["request_id"]) == ("WARNING", "req-9")


def test_settings_switch_to_json_logs_and_sentry_only_when_asked():
    probe = (
        "import django; django.setup(); import sentry_sdk; from django.conf import settings;"
        "print(settings.LOGGING['handlers']['console']['formatter'],"
        " sentry_sdk.get_client().is_active())"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin",
           "VAR_DIR": str(ROOT / "var")}  # fmt: skip

    def run(**extra):
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env={**env, **extra},
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.split()[-2:]

    assert run() == ["plain", "False"]
    assert run(LOG_FORMAT="json", SENTRY_DSN="https://key@sentry.example.com/1") == [
        "json",
        "True",
    ]


@pytest.mark.django_db
def test_hq_sees_job_health_on_its_start_page(client, hq_user):
    dead_letter_park(task_id="t2", task="core.heartbeat", args=[], kwargs={}, queue="default",
                     deliveries=4, error="WorkerLostError")  # fmt: skip
    client.force_login(hq_user)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'data-testid="hq-job-health"' in page
    assert 'data-testid="hq-parked">1<' in page
    assert DeadLetter.objects.count() == 1

"""Poison messages: a message that keeps killing its worker is parked for HQ, not looped."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from apps.core.models import DeadLetter, Heartbeat
from apps.core.services import dead_letter_discard, dead_letter_park, dead_letter_retry
from config.celery_app import app as celery_app
from tests.factories import UserFactory
from tests.poison_tasks import KILL_OWN_WORKER
from tests.worker import broker_url_configured, celery_worker, wait_for


def _parked(**overrides) -> DeadLetter:
    fields = {
        "task_id": uuid.uuid4().hex, "task": "core.heartbeat", "args": ["retried"], "kwargs": {},
        "queue": "default", "deliveries": 4, "error": "WorkerLostError: ...",
    }  # fmt: skip
    return dead_letter_park(**{**fields, **overrides})


@pytest.mark.django_db
def test_retry_sends_the_message_again_and_records_who(hq_user):
    parked = _parked()

    retried = dead_letter_retry(dead_letter_id=parked.pk, actor=hq_user)

    assert Heartbeat.objects.filter(source="retried").count() == 1  # run inline in tests
    assert (retried.status, retried.resolved_by) == (DeadLetter.Status.RETRIED, hq_user)
    assert retried.resolved_at is not None
    with pytest.raises(ValidationError, match="no longer parked"):
        dead_letter_retry(dead_letter_id=parked.pk, actor=hq_user)


@pytest.mark.django_db
def test_discard_never_runs_it_and_parking_the_same_message_twice_keeps_one_row(hq_user):
    parked = _parked()
    again = _parked(task_id=parked.task_id, deliveries=9)

    discarded = dead_letter_discard(dead_letter_id=parked.pk, actor=hq_user)

    assert again.pk == parked.pk and again.deliveries == 4
    assert discarded.status == DeadLetter.Status.DISCARDED
    assert not Heartbeat.objects.filter(source="retried").exists()


@pytest.mark.django_db
def test_a_message_of_a_task_no_longer_declared_cannot_be_retried(hq_user):
    parked = _parked(task="gone.task")

    with pytest.raises(ValidationError, match=r"No task named gone\.task"):
        dead_letter_retry(dead_letter_id=parked.pk, actor=hq_user)
    parked.refresh_from_db()
    assert parked.status == DeadLetter.Status.PARKED


@pytest.mark.django_db
def test_hq_retries_from_the_admin_and_a_guide_cannot(client, hq_user):
    parked = _parked()
    url = reverse("admin:core_deadletter_changelist")
    action = {"action": "retry", "_selected_action": [parked.pk]}

    client.force_login(UserFactory(username="g1", role="guide"))
    client.post(url, action)
    parked.refresh_from_db()
    assert parked.status == DeadLetter.Status.PARKED

    client.force_login(hq_user)
    page = client.get(url)
    assert page.status_code == 200 and "core.heartbeat" in page.content.decode()
    client.post(url, action)
    parked.refresh_from_db()
    assert parked.status == DeadLetter.Status.RETRIED


@pytest.mark.broker
@pytest.mark.skipif(not broker_url_configured(), reason="no broker and no embedded Redis")
@pytest.mark.django_db(transaction=True)
def test_a_task_that_kills_its_worker_is_parked_after_the_cap_and_the_worker_goes_on(client):
    heartbeats_before = _heartbeats_succeeded(client)
    marker = f"poison-{uuid.uuid4().hex[:8]}"
    env = {"TEST_WORKER_IMPORTS": "tests.poison_tasks", "TASK_MAX_DELIVERIES": "2"}
    with celery_worker(env=env) as worker:
        # Given a message whose task SIGKILLs the process running it, every time
        result = celery_app.send_task(KILL_OWN_WORKER, args=[marker], queue=worker.queue)

        # Then it runs twice (the cap), and the third delivery parks it instead
        parked = wait_for(lambda: DeadLetter.objects.filter(task_id=result.id).first(), timeout=60)
        assert Heartbeat.objects.filter(source=marker).count() == 2
        assert (parked.task, parked.args, parked.deliveries) == (KILL_OWN_WORKER, [marker], 3)
        assert parked.status == DeadLetter.Status.PARKED
        assert "WorkerLostError" in parked.error

        # And the worker is alive and runs the next message
        celery_app.send_task("core.heartbeat", args=[f"{marker}-after"], queue=worker.queue)
        wait_for(lambda: Heartbeat.objects.filter(source=f"{marker}-after").exists(), timeout=30)
        # And /metrics here counts what the worker's pool process ran (multiprocess files)
        wait_for(lambda: _heartbeats_succeeded(client) > heartbeats_before, timeout=10)
    assert Heartbeat.objects.filter(source=marker).count() == 2


def _heartbeats_succeeded(client) -> float:
    samples = text_string_to_metric_families(client.get("/metrics").content.decode())
    return sum(
        sample.value
        for family in samples
        for sample in family.samples
        if sample.name == "scrm_tasks_total"
        and sample.labels == {"task": "core.heartbeat", "outcome": "succeeded"}
    )

"""The follow-up tasks: run directly, queued on commit, and once through a real worker."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.core.dates import day_start
from apps.engagement.models import FollowUpRule, FollowUpTask
from apps.engagement.services import follow_up_create_manual
from apps.engagement.tasks import follow_ups_create_task, follow_ups_follow_members_task
from apps.guides.services import guide_update
from tests.worker import broker_url_configured, running_worker, wait_for


def _welcome_rule(brand):
    rule = FollowUpRule.objects.create(brand=brand, kind="welcome", days=1)
    FollowUpRule.objects.filter(pk=rule.pk).update(created_at=day_start(dt.date(2026, 1, 1)))


@pytest.mark.django_db
def test_daily_task_makes_the_follow_ups_once(org):
    _welcome_rule(org.brands[0])

    first = follow_ups_create_task.apply().get()
    second = follow_ups_create_task.apply().get()

    assert first == FollowUpTask.objects.count() > 0
    assert second == 0


@pytest.mark.django_db
def test_a_guide_leaving_queues_the_move_on_commit(org, django_capture_on_commit_callbacks):
    task = follow_up_create_manual(
        membership=org.members["G-SH01"], title="x", due_date=timezone.localdate(), user=None
    )

    with django_capture_on_commit_callbacks() as callbacks:
        guide_update(guide=org.guides["G-SH01"], is_active=False)
    task.refresh_from_db()
    assert task.guide == org.guides["G-SH01"]  # nothing moved before the commit

    for callback in callbacks:
        callback()
    task.refresh_from_db()
    assert task.guide == org.guides["M-SH01"]


@pytest.mark.django_db
def test_a_malformed_message_is_dropped():
    assert follow_ups_follow_members_task.apply(args=["7"]).get() is None


@pytest.mark.broker
@pytest.mark.skipif(not broker_url_configured(), reason="CELERY_BROKER_URL is not set")
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_daily_follow_ups(org):
    _welcome_rule(org.brands[0])

    with running_worker() as queue:
        follow_ups_create_task.apply_async(queue=queue)
        made = wait_for(lambda: FollowUpTask.objects.count() or None)

    assert made == FollowUpTask.objects.filter(kind="welcome").count()

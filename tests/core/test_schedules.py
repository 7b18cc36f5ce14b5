"""The default beat schedule, as ``migrate`` leaves it."""

import pytest
from django_celery_beat.models import PeriodicTask

from apps.customers.tasks import STALE_PENDING_SECONDS

pytestmark = pytest.mark.django_db


def test_lost_assignments_are_swept_as_often_as_they_go_stale():
    sweep = PeriodicTask.objects.get(task="customers.pending_memberships_sweep")

    assert sweep.enabled
    assert sweep.interval.every * {"seconds": 1, "minutes": 60}[sweep.interval.period] == (
        STALE_PENDING_SECONDS
    )


def test_nightly_settlement_is_scheduled_after_the_business_day():
    nightly = PeriodicTask.objects.get(task="commissions.settlement_run_nightly")

    assert (nightly.crontab.hour, nightly.crontab.minute) == ("2", "0")


def test_every_scheduled_task_is_one_a_worker_knows():
    from config.celery_app import app

    scheduled = set(PeriodicTask.objects.exclude(task="").values_list("task", flat=True))

    assert scheduled
    assert scheduled <= set(app.tasks)

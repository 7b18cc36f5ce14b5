"""The default beat schedule, as ``migrate`` leaves it."""

from types import SimpleNamespace

import pytest
from django_celery_beat.models import PeriodicTask

from apps.customers.tasks import STALE_PENDING_SECONDS

pytestmark = pytest.mark.django_db


def test_lost_assignments_are_swept_as_often_as_they_go_stale():
    sweep = PeriodicTask.objects.get(task="customers.pending_memberships_sweep")
    period = sweep.interval.every * {"seconds": 1, "minutes": 60}[sweep.interval.period]

    assert sweep.enabled
    assert period == STALE_PENDING_SECONDS
    # The worst case the README promises: a member whose every message was lost
    # (a worker killed mid-batch) is re-queued within two minutes of joining.
    assert STALE_PENDING_SECONDS + period <= 2 * 60


def test_the_sweep_reaches_existing_deployments_unless_hq_changed_it():
    import importlib

    from django.apps import apps
    from django.db import connection
    from django_celery_beat.models import IntervalSchedule

    migration = importlib.import_module("apps.core.migrations.0005_pending_sweep_every_minute")
    sweep = PeriodicTask.objects.get(task="customers.pending_memberships_sweep")
    other = PeriodicTask.objects.get(task="core.heartbeat")
    five_minutes, _ = IntervalSchedule.objects.get_or_create(every=300, period="seconds")
    ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=600, period="seconds")

    # A deployment still on the old default is moved to every minute
    PeriodicTask.objects.filter(pk__in=[sweep.pk, other.pk]).update(interval=five_minutes)
    editor = SimpleNamespace(connection=connection)  # all the migration reads of it
    migration.every_minute(apps, editor)
    moved = PeriodicTask.objects.get(pk=sweep.pk).interval.every
    # One where HQ chose another period keeps it
    PeriodicTask.objects.filter(pk=sweep.pk).update(interval=ten_minutes)
    migration.every_minute(apps, editor)

    assert moved == 60
    assert PeriodicTask.objects.get(pk=sweep.pk).interval.every == 600
    assert PeriodicTask.objects.get(pk=other.pk).interval.every == 300


def test_nightly_settlement_is_scheduled_after_the_business_day():
    nightly = PeriodicTask.objects.get(task="commissions.settlement_run_nightly")

    assert (nightly.crontab.hour, nightly.crontab.minute) == ("2", "0")


def test_every_scheduled_task_is_one_a_worker_knows():
    from config.celery_app import app

    app.loader.import_default_modules()  # as a worker does at start
    scheduled = set(PeriodicTask.objects.exclude(task="").values_list("task", flat=True))

    assert scheduled
    assert scheduled <= set(app.tasks)

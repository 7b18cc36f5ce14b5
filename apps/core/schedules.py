"""The one place where periodic tasks are declared.

Beat runs django-celery-beat's DatabaseScheduler, so these are only defaults:
``periodic_tasks_ensure`` creates the rows that are missing and leaves any
schedule HQ operations edited in the admin as it is. Tasks are named by their
registered names (each app's ``task_names``), so this module imports no app.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicTaskDefault:
    name: str
    task: str
    crontab: dict | None = None
    every_seconds: int | None = None


PERIODIC_TASK_DEFAULTS: list[PeriodicTaskDefault] = [
    # Beat proves it is alive every minute; its last run shows in the admin.
    PeriodicTaskDefault(name="Heartbeat", task="core.heartbeat", every_seconds=60),
    # Task messages the broker refused during an outage wait in the outbox
    # (apps.core.tasking). Every 30 seconds, so that once Redis is back a
    # member is assigned and an order's entries written within half a minute,
    # without waiting for other traffic; an empty outbox costs one index probe.
    PeriodicTaskDefault(name="Outbox drain", task="core.outbox_drain", every_seconds=30),
    # Webhook deliveries whose try failed wait for their backoff (30 s
    # doubling to an hour); each failure queues a run, and this catches a run
    # whose message was lost. An idle minute costs one index probe.
    PeriodicTaskDefault(
        name="Webhook deliveries", task="core.webhook_deliveries_send", every_seconds=60
    ),
    # Members still pending a minute after joining lost their assignment
    # (a broker restart, a worker killed in the middle of a batch): re-queue
    # them. Every minute, as often as members go stale, so the worst case is
    # two minutes after joining; the query reads a partial index of pending
    # members, a few rows when nothing is lost.
    PeriodicTaskDefault(
        name="Pending member sweep",
        task="customers.pending_memberships_sweep",
        every_seconds=60,
    ),
    # 02:00 local: the business day has closed and the load of the evening peak is gone.
    PeriodicTaskDefault(
        name="Nightly settlement (T+1 / T+N)",
        task="commissions.settlement_run_nightly",
        crontab={"minute": "0", "hour": "2"},
    ),
    # 06:00 local: before stores open, after the nightly settlement; the day's
    # follow-ups (welcome, after a purchase, birthday, dormant) are on the
    # guides' phones when they start. Idempotent: a rerun adds nothing.
    PeriodicTaskDefault(
        name="Daily follow-ups",
        task="engagement.follow_ups_create",
        crontab={"minute": "0", "hour": "6"},
    ),
    # 04:00 local, daily: after the nightly settlement. Each brand's month
    # closes on the first run after its hold for returns (brands differ, so a
    # monthly schedule would miss holds); the other runs re-check recently
    # closed months for refunds and find nothing to do most days.
    PeriodicTaskDefault(
        name="Monthly bonus close",
        task="incentives.bonus_close_run",
        crontab={"minute": "0", "hour": "4"},
    ),
    # 04:30 local, daily: after the bonus close, so a month closed today has
    # written its points before anything expires, and before guides open
    # their phones. Points expire at the start of a month, but a brand's close
    # waits for its hold, and a missed run must catch up the next day: daily,
    # and a run with nothing due reads one index of the brands' policies.
    PeriodicTaskDefault(
        name="Points expiry",
        task="incentives.points_expire_run",
        crontab={"minute": "30", "hour": "4"},
    ),
    # 04:00 on Mondays: after the nightly settlement, before stores open. Weekly,
    # because each run erases only what the previous week's dry-run report
    # named: the brand's data protection officer gets a week to look.
    PeriodicTaskDefault(
        name="Weekly retention (erase inactive members)",
        task="engagement.retention_run",
        crontab={"minute": "0", "hour": "4", "day_of_week": "1"},
    ),
    # 03:00 on the 1st: after the nightly run, once the previous month is complete.
    PeriodicTaskDefault(
        name="Monthly settlement",
        task="commissions.settlement_run_monthly",
        crontab={"minute": "0", "hour": "3", "day_of_month": "1"},
    ),
]


def periodic_tasks_ensure(*, using: str = "default") -> None:
    """Create every default periodic task that has no row yet."""
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for default in PERIODIC_TASK_DEFAULTS:
        if PeriodicTask.objects.using(using).filter(name=default.name).exists():
            continue
        schedule = {}
        if default.crontab is not None:
            crontab, _created = CrontabSchedule.objects.using(using).get_or_create(
                timezone=settings.TIME_ZONE,
                **{
                    "minute": "0",
                    "hour": "*",
                    "day_of_week": "*",
                    "day_of_month": "*",
                    "month_of_year": "*",
                    **default.crontab,
                },
            )
            schedule["crontab"] = crontab
        else:
            interval, _created = IntervalSchedule.objects.using(using).get_or_create(
                every=default.every_seconds, period=IntervalSchedule.SECONDS
            )
            schedule["interval"] = interval
        PeriodicTask.objects.using(using).create(name=default.name, task=default.task, **schedule)

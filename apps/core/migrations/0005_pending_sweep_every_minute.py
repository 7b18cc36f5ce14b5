"""The pending member sweep runs every minute (was every five), where nobody changed it.

``periodic_tasks_ensure`` creates missing rows only, so a changed default
reaches existing deployments here; a schedule HQ edited in the admin stays.
"""

from django.db import migrations
from django.utils import timezone

SWEEP = "customers.pending_memberships_sweep"


def set_every(apps, schema_editor, *, old: int, new: int):
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    db = schema_editor.connection.alias
    rows = periodic_task.objects.using(db).filter(
        task=SWEEP, interval__every=old, interval__period="seconds"
    )
    if not rows.exists():
        return
    schedule, _created = interval.objects.using(db).get_or_create(every=new, period="seconds")
    rows.update(interval=schedule)
    # A running beat reloads its schedule when this stamp moves.
    changes = apps.get_model("django_celery_beat", "PeriodicTasks")
    changes.objects.using(db).update_or_create(ident=1, defaults={"last_update": timezone.now()})


def every_minute(apps, schema_editor):
    set_every(apps, schema_editor, old=5 * 60, new=60)


def every_five_minutes(apps, schema_editor):
    set_every(apps, schema_editor, old=60, new=5 * 60)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_outbox"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(every_minute, every_five_minutes)]

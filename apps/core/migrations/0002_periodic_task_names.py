"""Beat rows name tasks as ``<app>.<task>`` since the tasks were renamed (release of 2026-12)."""

from django.db import migrations

RENAMED = {
    "apps.core.tasks.heartbeat": "core.heartbeat",
    "apps.commissions.tasks.settlement_run_nightly": "commissions.settlement_run_nightly",
    "apps.commissions.tasks.settlement_run_monthly": "commissions.settlement_run_monthly",
}


def rename(apps, schema_editor, mapping=RENAMED):
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in mapping.items():
        periodic_task.objects.using(schema_editor.connection.alias).filter(task=old).update(
            task=new
        )


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, mapping={new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]

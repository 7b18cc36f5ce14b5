# Hand-written: the entries' list index is rebuilt ascending, CONCURRENTLY on
# PostgreSQL (a live ledger keeps taking entries while it is built).
#
# ``(business_date DESC, id DESC)`` put every new entry of the day at the far
# left of its date's keys: each page split there left two half-empty pages,
# so the index grew to 2.5× the primary key and split on most inserts of a
# sale day. ``(business_date, id)`` takes new entries at the right, where a
# B-tree fills pages and splits cheaply, and a backward scan of it serves
# the lists' ``ORDER BY business_date DESC, id DESC`` just the same.

from django.db import migrations, models

OLD = models.Index(fields=["-business_date", "-id"], name="entry_newest_idx")
NEW = models.Index(fields=["business_date", "id"], name="entry_date_idx")


def _swap(schema_editor, model, *, create: models.Index, drop: models.Index, columns: str):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {create.name} ON {table} ({columns})"
        )
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {drop.name}")
    else:
        schema_editor.add_index(model, create)
        schema_editor.remove_index(model, drop)


def index_ascending(apps, schema_editor):
    model = apps.get_model("commissions", "CommissionEntry")
    _swap(schema_editor, model, create=NEW, drop=OLD, columns="business_date, id")


def index_descending(apps, schema_editor):
    model = apps.get_model("commissions", "CommissionEntry")
    _swap(schema_editor, model, create=OLD, drop=NEW, columns="business_date DESC, id DESC")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commissions", "0009_entry_newest_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="commissionentry", name=OLD.name),
                migrations.AddIndex(model_name="commissionentry", index=NEW),
            ],
            database_operations=[migrations.RunPython(index_ascending, index_descending)],
        ),
    ]

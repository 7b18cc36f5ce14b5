# Hand-written: on PostgreSQL the index is built CONCURRENTLY, so a live
# ledger keeps taking entries while it is built (a plain CREATE INDEX would
# block every insert for as long as it takes over millions of rows).

from django.db import migrations, models

INDEX = models.Index(fields=["-business_date", "-id"], name="entry_newest_idx")


def index_create(apps, schema_editor):
    model = apps.get_model("commissions", "CommissionEntry")
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS entry_newest_idx "
            f"ON {table} (business_date DESC, id DESC)"
        )
    else:
        schema_editor.add_index(model, INDEX)


def index_drop(apps, schema_editor):
    model = apps.get_model("commissions", "CommissionEntry")
    schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("commissions", "0008_bonus_entries"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="commissionentry", index=INDEX)],
            database_operations=[migrations.RunPython(index_create, index_drop)],
        ),
    ]

# A closed settlement stores its entry count beside ``entries_total`` (written
# by the same statement that sums it at close), so the settlements list reads
# it instead of counting each row's entries. Existing closed settlements are
# backfilled here in one set-based statement; open ones are counted live.

from django.db import migrations, models

BACKFILL = """
UPDATE {settlement} SET entry_count = counts.n
FROM (
    SELECT e.settlement_id, COUNT(*) AS n
    FROM {entry} e
    JOIN {settlement} s ON s.id = e.settlement_id
    WHERE s.status <> 'open'
    GROUP BY e.settlement_id
) counts
WHERE {settlement}.id = counts.settlement_id
"""


def entry_counts_backfill(apps, schema_editor):
    quote = schema_editor.quote_name
    settlement = apps.get_model("commissions", "Settlement")._meta.db_table
    entry = apps.get_model("commissions", "CommissionEntry")._meta.db_table
    schema_editor.execute(BACKFILL.format(settlement=quote(settlement), entry=quote(entry)))


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0010_entry_date_index_ascending"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalsettlement",
            name="entry_count",
            field=models.PositiveIntegerField(
                db_default=0,
                default=0,
                help_text="Entries it holds; written at close.",
                verbose_name="entry count",
            ),
        ),
        migrations.AddField(
            model_name="settlement",
            name="entry_count",
            field=models.PositiveIntegerField(
                db_default=0,
                default=0,
                help_text="Entries it holds; written at close.",
                verbose_name="entry count",
            ),
        ),
        migrations.RunPython(entry_counts_backfill, migrations.RunPython.noop),
    ]

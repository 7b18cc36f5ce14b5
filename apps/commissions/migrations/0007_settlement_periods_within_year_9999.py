"""Bring settlement periods past 9999-12-31 back to that day (PostgreSQL only).

Before ``apps.core.sql.date_plus`` capped computed dates, an order paid on
9999-12-31 opened a T+1 settlement for 10000-01-01: PostgreSQL stores it,
Python cannot load it, and every list of settlements and entries failed. SQLite
computed NULL instead and wrote nothing, so it has no such rows.
"""

from django.db import migrations


def cap_periods(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("commissions", "Settlement")._meta.db_table)
    schema_editor.execute(
        f"UPDATE {table} "  # noqa: S608 - the model's own table name
        "SET period_start = LEAST(period_start, DATE '9999-12-31'), "
        "period_end = LEAST(period_end, DATE '9999-12-31') "
        "WHERE period_end > DATE '9999-12-31'"
    )


class Migration(migrations.Migration):
    dependencies = [("commissions", "0006_order_numbers_path_safe")]

    operations = [migrations.RunPython(cap_periods, migrations.RunPython.noop, elidable=True)]

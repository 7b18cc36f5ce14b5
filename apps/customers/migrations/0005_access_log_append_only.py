"""Make the personal data access log append-only in the database (PostgreSQL).

A trigger refuses every UPDATE and DELETE of an access record, so neither a
bug nor a hand-written statement can rewrite who saw what. The one change let
through is the database's own ``SET NULL`` when a staff user is deleted: the
link goes, the recorded user name stays. SQLite (the embedded development
database) has no such trigger: Django empties its tables between tests with
DELETE, which the trigger would refuse.
"""

from django.db import migrations

FUNCTION = "customers_access_log_append_only"
TRIGGER = "customers_access_log_append_only"


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(
        apps.get_model("customers", "PersonalDataAccess")._meta.db_table
    )
    schema_editor.execute(
        f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
               AND (NEW.id, NEW.actor_name, NEW.kind, NEW."where", NEW.customer_ids::text,
                    NEW.row_count, NEW.filters::text, NEW.created_at)
                   IS NOT DISTINCT FROM
                   (OLD.id, OLD.actor_name, OLD.kind, OLD."where", OLD.customer_ids::text,
                    OLD.row_count, OLD.filters::text, OLD.created_at) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'personal data access records are append-only'
                USING ERRCODE = 'restrict_violation';
        END
        $$;
        CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
        """
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(
        apps.get_model("customers", "PersonalDataAccess")._meta.db_table
    )
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_privacy_consent_access_erasure")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]

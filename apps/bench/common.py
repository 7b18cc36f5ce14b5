"""What the benchmarks share: the guard against wiping real data, and fast loading of rows."""

from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Model

from apps.core.db import rows_insert
from apps.core.sql import SQL, render, table

__all__ = ["analyze", "bench_database_require", "reporter", "rows_insert"]


def bench_database_require(*, force: bool, what: str) -> None:
    """Refuse to run a benchmark that wipes ``what`` unless the database is a *bench* one."""
    if "bench" not in str(connection.settings_dict["NAME"]) and not force:
        raise CommandError(
            f"This benchmark wipes {what}: use a database whose name contains 'bench' "
            "(or pass --force)."
        )


def reporter(stdout):
    """Return a function that prints a line of progress at once."""

    def say(message: str) -> None:
        stdout.write(message)
        stdout.flush()

    return say


def analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics (PostgreSQL) after a bulk load: all tables if none given."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not models:
            cursor.execute("ANALYZE")
        for model in models:
            cursor.execute(render(SQL("VACUUM ANALYZE {}").format(table(model))))

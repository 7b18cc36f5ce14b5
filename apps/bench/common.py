"""What the benchmarks share: the guard against wiping real data, and fast loading of rows."""

from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Model

from apps.core.sql import SQL, Identifier, render, sql_join, table

INSERT_BATCH = 10_000


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


def rows_insert(model: type[Model] | str, columns: list[str] | tuple[str, ...], rows) -> None:
    """Load ``rows`` (tuples in ``columns`` order) fast: COPY on PostgreSQL, batches elsewhere.

    ``model`` is a model or a table name.
    """
    name = Identifier(model) if isinstance(model, str) else table(model)
    names = sql_join(", ", (Identifier(column) for column in columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = render(SQL("COPY {} ({}) FROM STDIN").format(name, names))
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = sql_join(", ", (SQL("%s") for _column in columns))
        statement = render(SQL("INSERT INTO {} ({}) VALUES ({})").format(name, names, marks))
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == INSERT_BATCH:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)


def analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics (PostgreSQL) after a bulk load: all tables if none given."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not models:
            cursor.execute("ANALYZE")
        for model in models:
            cursor.execute(render(SQL("VACUUM ANALYZE {}").format(table(model))))

"""Database helpers shared by bulk paths."""

from django.db import connection, connections
from django.db.models import Model, QuerySet

from apps.core.sql import SQL, Identifier, sql_join, table
from apps.core.sql import render as sql_render

INSERT_BATCH = 10_000


def rows_fetch(queryset: QuerySet) -> list[tuple]:
    """Run a ``values_list`` queryset and return its raw rows.

    Skips Django's per-row conversion, which costs more than the query itself
    on the hundreds of thousands of rows a bulk path reads. Only for columns
    whose database values need no conversion (numbers, text, NULL).
    """
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def rows_insert(model: type[Model] | str, columns: list[str] | tuple[str, ...], rows) -> None:
    """Load ``rows`` (tuples in ``columns`` order) fast: COPY on PostgreSQL, batches elsewhere.

    ``model`` is a model or a table name.
    """
    name = Identifier(model) if isinstance(model, str) else table(model)
    names = sql_join(", ", (Identifier(column) for column in columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            statement = sql_render(SQL("COPY {} ({}) FROM STDIN").format(name, names))
            with cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = sql_join(", ", (SQL("%s") for _column in columns))
        statement = sql_render(SQL("INSERT INTO {} ({}) VALUES ({})").format(name, names, marks))
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == INSERT_BATCH:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)


# Past this many rows written in one go, the planner's statistics of the table
# are refreshed: a table that was empty at its last ANALYZE is planned as
# empty, and an UPDATE … FROM over thousands of new rows turns quadratic.
ANALYZE_AFTER_ROWS = 1_000


def tables_analyze(*models: type[Model]) -> None:
    """Refresh the planner's statistics of ``models``' tables (PostgreSQL; inside a transaction)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(sql_render(SQL("ANALYZE {}").format(sql_join(", ", map(table, models)))))

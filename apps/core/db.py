"""Database helpers shared by bulk paths."""

from django.db import connections
from django.db.models import QuerySet


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

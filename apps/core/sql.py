"""Raw SQL, composed one way, for PostgreSQL and SQLite alike.

Statements are psycopg ``sql`` objects (``SQL``, ``Identifier``, ``Literal``)
put together with ``SQL.format`` and rendered to text once per database
vendor (builders cache their result), so a table name is always a quoted
identifier, a constant a quoted literal, and every value from outside a bound
parameter. Rendering needs no connection, so the same text runs on SQLite
through Django's cursor, which turns ``%(name)s`` into SQLite's own style.

The few places where the two databases differ (dates, lists of values) and the
money arithmetic in integer cents are defined here, once.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Model
from psycopg.sql import SQL, Composable, Composed, Identifier, Literal

__all__ = [
    "SQL",
    "Composable",
    "Composed",
    "Identifier",
    "Literal",
    "cents",
    "date_plus",
    "half_up",
    "in_list",
    "list_param",
    "month_end",
    "month_start",
    "render",
    "sql_join",
    "sum_cents",
    "table",
    "tables",
]


def table(model: type[Model]) -> Identifier:
    return Identifier(model._meta.db_table)


def tables(**models: type[Model]) -> dict[str, Identifier]:
    """Return ``{name: quoted table}`` for ``SQL.format(**tables(...))``."""
    return {name: table(model) for name, model in models.items()}


def render(statement: Composable) -> str:
    return statement.as_string(None)


def sql_join(separator: str, parts: Iterable[Composable]) -> Composed:
    return SQL(separator).join(list(parts))


def _sql(expr: str | Composable) -> Composable:
    return SQL(expr) if isinstance(expr, str) else expr


# Money in integer cents. ``(2·n + d) / (2·d)`` is ``n / d`` rounded half up
# for non-negative integers, as ``apps.core.money.quantize_money`` rounds.
def cents(expr: str | Composable) -> Composed:
    """An amount (yuan, or a percentage) as whole hundredths."""
    return SQL("CAST(ROUND(({}) * 100) AS BIGINT)").format(_sql(expr))


def sum_cents(expr: str | Composable) -> Composed:
    # PostgreSQL sums BIGINT into NUMERIC; integer division needs BIGINT.
    return SQL("CAST(SUM({}) AS BIGINT)").format(cents(expr))


def half_up(numerator: str | Composable, denominator: str | Composable) -> Composed:
    """``numerator / denominator`` rounded half up, for non-negative integers."""
    return SQL("((2 * ({n}) + ({d})) / (2 * ({d})))").format(n=_sql(numerator), d=_sql(denominator))


# Dates: PostgreSQL adds integers to dates and truncates to months, SQLite has
# date() modifiers. Both compare ISO dates.
#
# A computed date stops at 9999-12-31, the last one Python (and so every
# read of the row) can represent: PostgreSQL would store 10000-01-01 for the
# day after, which no list, report or admin page could then load, and SQLite
# would give NULL. A date that far out is a bad input, which ``verify_ledger``
# reports; capped, it cannot take every read of its table down with it.
DATE_MAX = Literal("9999-12-31")


def date_plus(vendor: str, date: str | Composable, days: str | Composable) -> Composed:
    """``date`` plus ``days`` days, at most 9999-12-31 (NULL stays NULL)."""
    if vendor == "postgresql":
        return SQL("LEAST({} + {}, CAST({} AS date))").format(_sql(date), _sql(days), DATE_MAX)
    return _sqlite_capped(
        date, SQL("date({}, '+' || ({}) || ' days')").format(_sql(date), _sql(days))
    )


def _sqlite_capped(date: str | Composable, computed: Composed) -> Composed:
    # SQLite's date() answers NULL past year 9999.
    return SQL("COALESCE({}, CASE WHEN {} IS NOT NULL THEN {} END)").format(
        computed, _sql(date), DATE_MAX
    )


def month_start(vendor: str, date: str | Composable) -> Composed:
    if vendor == "postgresql":
        return SQL("CAST(date_trunc('month', {}) AS date)").format(_sql(date))
    return SQL("date({}, 'start of month')").format(_sql(date))


def month_end(vendor: str, date: str | Composable) -> Composed:
    """The last day of ``date``'s month (PostgreSQL reaches 9999-12-31 without a cap)."""
    if vendor == "postgresql":
        return SQL("CAST(date_trunc('month', {}) + INTERVAL '1 month - 1 day' AS date)").format(
            _sql(date)
        )
    return _sqlite_capped(
        date, SQL("date({}, 'start of month', '+1 month', '-1 day')").format(_sql(date))
    )


# Lists of values travel as one parameter: an array on PostgreSQL, JSON text
# on SQLite (one placeholder per value would exceed SQLite's limit on bound
# variables, and an inline list would make every statement text different).
def in_list(vendor: str, column: str | Composable, param: str) -> Composed:
    """``column`` is one of the values of the list parameter ``param`` (see ``list_param``)."""
    placeholder = SQL("%({})s").format(SQL(param))
    if vendor == "postgresql":
        return SQL("{} = ANY({})").format(_sql(column), placeholder)
    return SQL("{} IN (SELECT value FROM json_each({}))").format(_sql(column), placeholder)


def list_param(values: Iterable, vendor: str | None = None):
    """Return ``values`` as ``in_list`` expects them bound on the database ``vendor``."""
    import json

    values = list(values)
    if (vendor or connection.vendor) == "postgresql":
        return values
    return json.dumps(values)

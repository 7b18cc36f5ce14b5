"""The HQ commission report: ledger entries filtered, grouped and summed in the database.

``commission_report_rows`` is one aggregate ``GROUP BY`` over
``CommissionEntry`` (never a Python loop over entries). The API, the page
and the exports add the totals row up from the grouped rows as they pass (a
few thousand sums, not the entries), which saves a second scan of the
ledger; ``commission_report_totals`` is the same figure straight from the
entries. The exports stream: CSV row by row from a server-side cursor, XLSX
through openpyxl's write-only workbook into a temporary file, both written
by ``apps.core.exports`` (which makes formula-like text plain).
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

from apps.commissions.models import Beneficiary, CommissionEntry, EntryKind
from apps.commissions.selectors import entries_with_status
from apps.core.exports import csv_response, xlsx_response
from apps.core.money import ZERO, money_from_db
from apps.core.roles import Role, user_has_role
from apps.core.scoping import Scope, scope_queryset
from apps.guides.models import Guide
from apps.stores.models import Brand, Region, Store
from apps.stores.selectors import region_descendant_ids

EXPORT_CHUNK_SIZE = 2000  # rows fetched per round trip of the server-side cursor
STORE_SHARES_LABEL = _("Stores' shares (no guide)")


class Grouping:
    REGION = "region"
    STORE = "store"
    GUIDE = "guide"
    BRAND = "brand"
    DAY = "day"
    MONTH = "month"

    CHOICES = [
        (REGION, _("Region")),
        (STORE, _("Store")),
        (GUIDE, _("Guide")),
        (BRAND, _("Brand")),
        (DAY, _("Day")),
        (MONTH, _("Month")),
    ]


LEADERBOARD_CHOICES = [
    ("store", _("Store")),
    ("region", _("Region")),
    ("brand", _("Brand")),
]


# What each grouping groups by: an integer id (its code and name are looked up
# afterwards, a chunk of groups at a time) or a date. Grouping by the id
# rather than by code and name keeps strings out of the per-entry hashing.
_GROUP_ID = {
    Grouping.REGION: "store__region_id",
    Grouping.STORE: "store_id",
    Grouping.GUIDE: "guide_id",
    Grouping.BRAND: "brand_id",
}
_GROUP_LABELS = {
    Grouping.REGION: (Region, "code", "name"),
    Grouping.STORE: (Store, "code", "name"),
    Grouping.GUIDE: (Guide, "employee_no", "name"),
    Grouping.BRAND: (Brand, "code", "name"),
}


# A sale writes a store entry and, when a guide is credited, a guide entry,
# both carrying the sale's amount as their base: summing every base counts a
# sale twice. Sales are read from one side only: the store's entries (every
# sale has one), or, grouped by guide, each guide's own entries (the sales
# credited to them), the stores' shares row then holding every sale.
_SALE_KINDS = [EntryKind.ORDER, EntryKind.REFUND]
_STORE_SALES = Q(beneficiary=Beneficiary.STORE, kind__in=_SALE_KINDS)
_GUIDE_SALES = Q(beneficiary=Beneficiary.GUIDE, kind__in=[*_SALE_KINDS, EntryKind.BOUND_GUIDE_LATE])
REPORT_SUMS = ["sales", "store_commission", "guide_commission", "amount", "bonus"]


def _sums(group_by: str) -> dict:
    sales = _STORE_SALES
    if group_by == Grouping.GUIDE:
        sales = _GUIDE_SALES | (Q(guide__isnull=True) & _STORE_SALES)
    return {
        # Month-close bonuses (and their later revisions), part of ``amount``;
        # first, before "amount" names the sum rather than the column.
        "bonus": Sum("amount", filter=Q(kind=EntryKind.BONUS)),
        "entries": Count("pk"),
        "sales": Sum("base_amount", filter=sales),
        "store_commission": Sum("amount", filter=Q(beneficiary=Beneficiary.STORE)),
        "guide_commission": Sum("amount", filter=Q(beneficiary=Beneficiary.GUIDE)),
        "amount": Sum("amount"),
    }


# What a higher app adds to the report (incentives: the points column and the
# leaderboard), registered from its AppConfig.ready(): this app imports none.
# A column is ``values(scope, filters, groups) -> {group: value}``, called per
# chunk of grouped rows with their groups (ids, or dates when grouped by day
# or month); its value is a whole number, 0 where absent. The leaderboard is
# ``leaderboard(scope, filters) -> dict`` for ``filters.leaderboard_month``.
_EXTRA_COLUMNS: dict[str, Callable] = {}
_LEADERBOARD: list[Callable] = []


def report_column_register(name: str, values: Callable) -> None:
    """Add a whole-number column ``name`` to the report's rows, totals and exports."""
    _EXTRA_COLUMNS[name] = values


def report_leaderboard_register(leaderboard: Callable) -> None:
    """Answer ``leaderboard_month`` queries with ``leaderboard`` (one provider)."""
    _LEADERBOARD[:] = [leaderboard]


@dataclass(frozen=True)
class GroupedReport:
    """The grouped rows (``group``, entries, base_amount, amount) and what they group by."""

    rows: QuerySet
    group_by: str
    scope: Scope | None = None
    filters: "ReportFilters | None" = None


@dataclass(frozen=True)
class ReportFilters:
    """What the report covers; codes already resolved to ids by the caller."""

    group_by: str = Grouping.STORE
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    brand_id: int | None = None
    region_id: int | None = None
    store_id: int | None = None
    guide_id: int | None = None
    status: str | None = None
    # The incentives leaderboard of a month (its first day), by store, region or brand.
    leaderboard_month: dt.date | None = None
    leaderboard_by: str = "store"


def commission_report_entries(*, scope: Scope, filters: ReportFilters) -> QuerySet:
    """Return the entries ``scope`` may see that match ``filters`` (unordered)."""
    entries = scope_queryset(CommissionEntry.objects.order_by(), scope)
    if filters.date_from:
        entries = entries.filter(business_date__gte=filters.date_from)
    if filters.date_to:
        entries = entries.filter(business_date__lte=filters.date_to)
    if filters.brand_id:
        entries = entries.filter(brand_id=filters.brand_id)
    if filters.region_id:
        regions = region_descendant_ids(region_ids=[filters.region_id])
        entries = entries.filter(store__region_id__in=regions)
    if filters.store_id:
        entries = entries.filter(store_id=filters.store_id)
    if filters.guide_id:
        entries = entries.filter(guide_id=filters.guide_id)
    if filters.status:
        entries = entries_with_status(entries, filters.status)
    return entries


def commission_report_rows(*, scope: Scope, filters: ReportFilters) -> GroupedReport:
    """Return one row per group (``group``, entries, base_amount, amount), ordered by group.

    ``group`` is the id of the region, store, guide or brand, or the day or
    the first of the month. Entries without a guide (the store's own lines)
    form the group ``None`` when grouping by guide, first.
    """
    entries = commission_report_entries(scope=scope, filters=filters)
    if filters.group_by == Grouping.DAY:
        group = F("business_date")
    elif filters.group_by == Grouping.MONTH:
        group = TruncMonth("business_date")
    else:
        group = F(_GROUP_ID[filters.group_by])
    rows = (
        entries.annotate(group=group)
        .values("group")
        .annotate(**_sums(filters.group_by))
        .order_by(F("group").asc(nulls_first=True))
    )
    return GroupedReport(rows=rows, group_by=filters.group_by, scope=scope, filters=filters)


def commission_report_totals(*, scope: Scope, filters: ReportFilters) -> dict:
    """Return the totals row: entries, sales and commissions over every filtered entry."""
    totals = commission_report_entries(scope=scope, filters=filters).aggregate(
        **_sums(Grouping.STORE)
    )
    extras = {name: 0 for name in _EXTRA_COLUMNS}
    for name, values in _EXTRA_COLUMNS.items():
        extras[name] = sum(values(scope, filters, None).values())
    return (
        {"entries": totals["entries"]}
        | {name: money_from_db(totals[name]) for name in REPORT_SUMS}
        | extras
    )


class TotalsRow:
    """The totals row, added up from grouped rows as they pass.

    Grouped by guide, the guides' sales are also in the stores' shares row
    (``key`` empty): only that row's sales count towards the total.
    """

    def __init__(self, group_by: str = Grouping.STORE):
        self.group_by = group_by
        self.entries, self.sums = 0, dict.fromkeys(REPORT_SUMS, ZERO)
        self.extras = dict.fromkeys(_EXTRA_COLUMNS, 0)

    def add(self, row: dict) -> dict:
        self.entries += row["entries"]
        for name in REPORT_SUMS:
            if name == "sales" and self.group_by == Grouping.GUIDE and row["key"]:
                continue
            self.sums[name] += row[name]
        for name in self.extras:
            self.extras[name] += row.get(name, 0)
        return row

    def as_dict(self) -> dict:
        return {"entries": self.entries, **self.sums, **self.extras}


def can_read_commission_report(user) -> bool:
    """HQ operations, and region managers within their regions (the scope narrows the rows)."""
    return user_has_role(user, Role.HQ_OPS, Role.REGION_MANAGER)


def commission_report(*, scope: Scope, filters: ReportFilters, export: str | None = None):
    """Answer a report query for the page, the API and the exports alike.

    With ``export`` (``csv`` or ``xlsx``) the answer is the streamed file;
    otherwise a dict of ``group_by``, the labelled ``rows`` and the ``totals``.
    """
    report = commission_report_rows(scope=scope, filters=filters)
    if export:
        filename = f"commission-report-{filters.group_by}"
        if export == "csv":
            return report_csv_response(report, filename=filename)
        return report_xlsx_response(report, filename=filename)
    rows, totals = report_with_totals(report)
    answer = {"group_by": filters.group_by, "rows": rows, "totals": totals}
    if filters.leaderboard_month and _LEADERBOARD:
        answer["leaderboard"] = _LEADERBOARD[0](scope, filters)
    return answer


def report_with_totals(report: GroupedReport) -> tuple[list[dict], dict]:
    """Return the labelled grouped rows and their totals row."""
    totals = TotalsRow(report.group_by)
    rows = [totals.add(row) for row in _labelled(report, report.rows)]
    return rows, totals.as_dict()


def _labelled(report: GroupedReport, rows) -> Iterator[dict]:
    """Yield rows as key, label, entries, sales and commissions; one label query per chunk."""
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == EXPORT_CHUNK_SIZE:
            yield from _label_chunk(report, chunk)
            chunk = []
    yield from _label_chunk(report, chunk)


def _label_chunk(report: GroupedReport, chunk: list[dict]) -> Iterator[dict]:
    group_by = report.group_by
    extras = _extra_values(report, chunk)
    names = {}
    if group_by in _GROUP_LABELS and chunk:
        model, code, name = _GROUP_LABELS[group_by]
        ids = [row["group"] for row in chunk if row["group"] is not None]
        names = {
            pk: (key, label)
            for pk, key, label in model.objects.filter(pk__in=ids).values_list("pk", code, name)
        }
    for row in chunk:
        group = row["group"]
        if group_by == Grouping.MONTH:
            key = label = _as_date(group).strftime("%Y-%m")
        elif group_by == Grouping.DAY:
            key = label = _as_date(group).isoformat()
        elif group is None:  # grouped by guide: the stores' own entries
            key, label = "", str(STORE_SHARES_LABEL)
        else:
            key, label = names.get(group, ("", ""))
        yield (
            {"key": key, "label": label, "entries": row["entries"]}
            | {name: money_from_db(row[name]) for name in REPORT_SUMS}
            | {name: extra.get(_extra_key(group_by, group), 0) for name, extra in extras.items()}
        )


def _extra_key(group_by: str, group):
    return _as_date(group) if group_by in (Grouping.DAY, Grouping.MONTH) else group


def _extra_values(report: GroupedReport, chunk: list[dict]) -> dict[str, dict]:
    if not _EXTRA_COLUMNS or not chunk or report.scope is None:
        return {}
    groups = [_extra_key(report.group_by, row["group"]) for row in chunk]
    return {
        name: values(report.scope, report.filters, groups)
        for name, values in _EXTRA_COLUMNS.items()
    }


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):  # SQLite may hand back text
        return dt.date.fromisoformat(value[:10])
    return value


def iter_report_rows(report: GroupedReport) -> Iterator[dict]:
    """Yield labelled rows from a server-side cursor, ``EXPORT_CHUNK_SIZE`` at a time."""
    yield from _labelled(report, report.rows.iterator(chunk_size=EXPORT_CHUNK_SIZE))


EXPORT_HEADER = ["key", "label", "entries", *REPORT_SUMS]
TOTAL_KEY = "TOTAL"


def export_header() -> list[str]:
    """The exports' columns: ``EXPORT_HEADER`` and the registered ones (points)."""
    return [*EXPORT_HEADER, *_EXTRA_COLUMNS]


def _export_lines(report: GroupedReport) -> Iterator[list]:
    totals = TotalsRow(report.group_by)
    header = export_header()
    yield header
    for row in iter_report_rows(report):
        totals.add(row)
        yield [row[column] for column in header]
    totals = totals.as_dict()
    yield [TOTAL_KEY, "", *(totals[name] for name in header[2:])]


def report_csv_response(report: GroupedReport, *, filename: str) -> StreamingHttpResponse:
    """Stream the report as CSV, the totals row last."""
    return csv_response(_export_lines(report), filename=filename)


def report_xlsx_response(report: GroupedReport, *, filename: str) -> FileResponse:
    """Stream the report as an XLSX workbook, the totals row last."""
    return xlsx_response(_export_lines(report), filename=filename, sheet="report")

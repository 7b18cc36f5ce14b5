"""The HQ commission report: ledger entries filtered, grouped and summed in the database.

``commission_report_rows`` is one aggregate ``GROUP BY`` over
``CommissionEntry`` (never a Python loop over entries); the totals row is a
second aggregate over the same filtered rows, so it equals the sum of the
grouped rows. The exports stream: CSV row by row from a server-side cursor,
XLSX through openpyxl's write-only workbook into a temporary file.
"""

import csv
import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import CharField, Count, F, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

from apps.commissions.models import CommissionEntry
from apps.core.scoping import Scope, scope_queryset
from apps.stores.selectors import region_descendant_ids

ZERO = Decimal("0.00")
EXPORT_CHUNK_SIZE = 2000  # rows fetched per round trip of the server-side cursor


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


class SettlementStatus:
    UNSETTLED = "unsettled"
    SETTLED = "settled"
    PAID = "paid"

    CHOICES = [
        (UNSETTLED, _("Not yet settled")),
        (SETTLED, _("Settled")),
        (PAID, _("Paid")),
    ]


# Group key and label of each grouping, as lookups from CommissionEntry.
_GROUP_COLUMNS = {
    Grouping.REGION: ("store__region__code", "store__region__name"),
    Grouping.STORE: ("store__code", "store__name"),
    Grouping.GUIDE: ("guide__employee_no", "guide__name"),
    Grouping.BRAND: ("brand__code", "brand__name"),
}


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
    if filters.status == SettlementStatus.UNSETTLED:
        entries = entries.filter(settlement__isnull=True)
    elif filters.status:
        entries = entries.filter(settlement__status=filters.status)
    return entries


def commission_report_rows(*, scope: Scope, filters: ReportFilters) -> QuerySet:
    """Return one dict per group: key, label, entries, base_amount, amount; ordered by key.

    Entries without a guide (the store's own lines) group under an empty key
    when grouping by guide.
    """
    entries = commission_report_entries(scope=scope, filters=filters)
    if filters.group_by == Grouping.DAY:
        entries = entries.annotate(
            key=Cast("business_date", CharField()), label=Cast("business_date", CharField())
        )
    elif filters.group_by == Grouping.MONTH:
        month = TruncMonth("business_date")
        entries = entries.annotate(key=month, label=Value(""))
    else:
        key, label = _GROUP_COLUMNS[filters.group_by]
        entries = entries.annotate(
            key=Coalesce(F(key), Value("")), label=Coalesce(F(label), Value(""))
        )
    return (
        entries.values("key", "label")
        .annotate(entries=Count("pk"), base_amount=Sum("base_amount"), amount=Sum("amount"))
        .order_by("key")
    )


def commission_report_totals(*, scope: Scope, filters: ReportFilters) -> dict:
    """Return the totals row: entries, base_amount and amount over every filtered entry."""
    totals = commission_report_entries(scope=scope, filters=filters).aggregate(
        entries=Count("pk"), base_amount=Sum("base_amount"), amount=Sum("amount")
    )
    return {
        "entries": totals["entries"],
        "base_amount": money(totals["base_amount"]),
        "amount": money(totals["amount"]),
    }


def money(value) -> Decimal:
    """Return a database sum as a 2-decimal Decimal (SQLite may hand back floats)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(ZERO)


def report_row(row: dict) -> dict:
    """Normalise a grouped row: month keys as ``YYYY-MM``, sums as 2-decimal Decimals."""
    key = row["key"]
    if isinstance(key, dt.datetime | dt.date):
        key = key.strftime("%Y-%m")
    return {
        "key": key or "",
        "label": row["label"] or key or "",
        "entries": row["entries"],
        "base_amount": money(row["base_amount"]),
        "amount": money(row["amount"]),
    }


def iter_report_rows(rows: QuerySet) -> Iterator[dict]:
    """Yield normalised rows from a server-side cursor, ``EXPORT_CHUNK_SIZE`` at a time."""
    for row in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield report_row(row)


EXPORT_HEADER = ["key", "label", "entries", "base_amount", "amount"]
TOTAL_KEY = "TOTAL"


def _export_lines(rows: QuerySet, totals_of) -> Iterator[list]:
    yield EXPORT_HEADER
    for row in iter_report_rows(rows):
        yield [row[column] for column in EXPORT_HEADER]
    totals = totals_of()
    yield [TOTAL_KEY, "", totals["entries"], totals["base_amount"], totals["amount"]]


class _Echo:
    """A file-like object whose ``write`` returns the line, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def report_csv_response(rows: QuerySet, totals_of, *, filename: str) -> StreamingHttpResponse:
    """Stream the report as CSV (UTF-8 with BOM, for Excel), the totals row last.

    ``totals_of`` is called after the rows are written, so the totals query
    runs only when the client reads that far.
    """
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for line in _export_lines(rows, totals_of):
            yield writer.writerow(line)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def report_xlsx_response(rows: QuerySet, totals_of, *, filename: str) -> FileResponse:
    """Write the report with openpyxl's write-only workbook to a temporary file and stream it."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("report")
    for line in _export_lines(rows, totals_of):
        sheet.append(line)
    # Deleted on close, which FileResponse does once the last byte is sent.
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"{filename}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

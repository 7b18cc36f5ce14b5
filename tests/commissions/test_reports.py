"""The HQ commission report: grouping, filters, scope, validation and the streamed exports.

The ledger fixture gives each of the four ``org`` guides a 100.00 order on
LEDGER_DAY with the guide's 3.00 entry (settled) and the store's 5.00 entry
(unsettled): SH01 has two guides, SH02 and BJ01 one each.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.test import Client
from openpyxl import load_workbook

from apps.commissions import services
from apps.commissions.reports import (
    ReportFilters,
    commission_report_rows,
    commission_report_totals,
    report_with_totals,
)
from apps.core.scoping import scope_for_user
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/commissions/"
PAGE = "/admin/commissions/report/"


def report(org, role="hq", **params):
    response = token_client(org.users[role]).get(URL, params)
    assert response.status_code == 200, response.content
    body = response.json()
    return [(r["key"], r["entries"], r["sales"], r["amount"]) for r in body["rows"]], body["totals"]


def test_grouped_by_store_with_a_totals_row(org, ledger):
    rows, totals = report(org, group_by="store")

    assert rows == [  # in the order the stores were created; a sale is counted once
        ("SH01", 4, "200.00", "16.00"),
        ("SH02", 2, "100.00", "8.00"),
        ("BJ01", 2, "100.00", "8.00"),
    ]
    assert totals == {
        "entries": 8, "sales": "400.00", "store_commission": "20.00",
        "guide_commission": "12.00", "amount": "32.00", "bonus": "0.00", "points": 0,
    }  # fmt: skip


def test_grouped_by_region_guide_brand_day_and_month(org, ledger):
    by_region, _ = report(org, group_by="region")
    by_guide, _ = report(org, group_by="guide")
    by_brand, _ = report(org, group_by="brand")
    by_day, _ = report(org, group_by="day")
    by_month, _ = report(org, group_by="month")

    assert by_region == [("EAST-SH", 6, "300.00", "24.00"), ("NORTH", 2, "100.00", "8.00")]
    assert by_guide == [
        ("", 4, "400.00", "20.00"),  # the stores' shares: every sale
        ("M-SH01", 1, "100.00", "3.00"),  # the sales credited to each guide
        ("G-SH01", 1, "100.00", "3.00"),
        ("G-SH02", 1, "100.00", "3.00"),
        ("G-BJ01", 1, "100.00", "3.00"),
    ]
    assert by_brand == [("AUR", 8, "400.00", "32.00")]
    assert by_day == [("2026-11-18", 8, "400.00", "32.00")]
    assert by_month == [("2026-11", 8, "400.00", "32.00")]


def test_grouped_by_guide_the_stores_shares_are_labelled_and_sales_total_once(org, ledger):
    body = token_client(org.users["hq"]).get(URL, {"group_by": "guide"}).json()
    chinese = (
        token_client(org.users["hq"])
        .get(URL, {"group_by": "guide"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        .json()
    )

    assert body["rows"][0]["label"] == "Stores' shares (no guide)"
    assert chinese["rows"][0]["label"] == "门店分成（无导购）"
    assert body["totals"]["sales"] == "400.00"
    assert body["totals"]["store_commission"] == body["rows"][0]["store_commission"] == "20.00"
    assert body["totals"]["guide_commission"] == "12.00"


def test_filters_narrow_the_entries(org, ledger):
    settlement = ledger.settlements["G-SH02"]
    services.settlement_mark_paid(settlement=settlement, payout_ref="BANK-1")

    _, east = report(org, region="EAST")  # with its sub-region EAST-SH
    _, store = report(org, store="SH01", brand="AUR")
    _, guide = report(org, guide="G-SH01")
    _, unsettled = report(org, status="unsettled")
    _, settled = report(org, status="settled")
    _, paid = report(org, status="paid")
    _, inside = report(org, date_from="2026-11-18", date_to="2026-11-18")
    _, before = report(org, date_to="2026-11-17")
    _, other_brand = report(org, brand="BOR")

    assert east["amount"] == "24.00"
    assert store["amount"] == "16.00"
    assert guide["amount"] == "3.00"
    assert (unsettled["entries"], unsettled["amount"]) == (4, "20.00")
    assert (settled["entries"], settled["amount"]) == (3, "9.00")
    assert (paid["entries"], paid["amount"]) == (1, "3.00")
    assert inside["amount"] == "32.00"
    assert (before["entries"], before["amount"]) == (0, "0.00")
    assert other_brand["entries"] == 0


def test_region_manager_sees_only_their_regions(org, ledger):
    rows, totals = report(org, "region_east", group_by="store")
    _, beijing = report(org, "region_east", store="BJ01")

    assert [row[0] for row in rows] == ["SH01", "SH02"]
    assert totals["amount"] == "24.00"
    assert beijing["entries"] == 0


@pytest.mark.parametrize("role", ["manager_sh01", "guide_sh01", "pos"])
def test_other_roles_cannot_read_the_report(org, ledger, role):
    assert token_client(org.users[role]).get(URL).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2026-11-19", "date_to": "2026-11-18"}, "date_to"),
        ({"brand": "NOPE"}, "brand"),
        ({"region": "NOPE"}, "region"),
        ({"store": "NOPE"}, "store"),
        ({"guide": "NOPE"}, "guide"),
        ({"status": "lost"}, "status"),
        ({"group_by": "week"}, "group_by"),
        ({"export": "pdf"}, "export"),
    ],
)
def test_bad_filters_are_400_naming_the_field(org, params, field):
    response = token_client(org.users["hq"]).get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_report_is_one_aggregate_query_and_one_for_labels_and_totals_match_the_entries(
    org, ledger, django_assert_num_queries
):
    scope = scope_for_user(org.users["hq"])
    filters = ReportFilters(group_by="region")

    # the grouped rows, their labels, the points of their groups (incentives' column)
    with django_assert_num_queries(3):
        rows, totals = report_with_totals(commission_report_rows(scope=scope, filters=filters))

    assert len(rows) == 2
    assert totals == commission_report_totals(scope=scope, filters=filters)
    assert totals["amount"] == Decimal("32.00")


def test_api_query_count_is_pinned(org, ledger, django_assert_num_queries):
    client = token_client(org.users["hq"])

    # token, the user's roles, the grouped rows, their labels, their points;
    # the totals are added up from the grouped rows
    with django_assert_num_queries(5):
        assert client.get(URL, {"group_by": "guide"}).status_code == 200


def test_csv_export_streams_rows_and_the_api_totals(org, ledger):
    client = token_client(org.users["hq"])
    _, totals = report(org, group_by="store", region="EAST")

    response = client.get(URL, {"group_by": "store", "region": "EAST", "export": "csv"})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "key", "label", "entries", "sales", "store_commission", "guide_commission", "amount",
        "bonus", "points",
    ]  # fmt: skip
    assert [line[0] for line in lines[1:]] == ["SH01", "SH02", "TOTAL"]
    assert lines[-1][2:] == [
        str(totals["entries"]), totals["sales"], totals["store_commission"],
        totals["guide_commission"], totals["amount"], totals["bonus"], str(totals["points"]),
    ]  # fmt: skip
    assert sum(Decimal(line[6]) for line in lines[1:-1]) == Decimal(totals["amount"])


def test_xlsx_export_is_a_workbook_with_the_totals_row(org, ledger):
    response = token_client(org.users["hq"]).get(URL, {"group_by": "brand", "export": "xlsx"})

    assert isinstance(response, FileResponse)
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[1][:3] == ["AUR", "Aurora", 8]
    assert values[-1][0] == "TOTAL"
    assert Decimal(str(values[-1][6])) == Decimal("32.00")
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert sheet["G2"].number_format == "#,##0.00" and isinstance(sheet["G2"].value, float | int)


# --- admin page ---------------------------------------------------------------


def logged_in(org, role):
    client = Client()
    client.force_login(org.users[role])
    return client


@pytest.mark.parametrize(("role", "amount"), [("hq", "32.00"), ("region_east", "24.00")])
def test_report_page_shows_groups_chart_totals_and_exports(org, ledger, role, amount):
    response = logged_in(org, role).get(PAGE, {"group_by": "store"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="report-table"' in html
    assert "scrm-hbars__bar" in html
    assert response.context["totals"]["amount"] == Decimal(amount)
    assert "export=csv" in html and "export=xlsx" in html


def test_report_page_explains_a_bad_filter(org):
    response = logged_in(org, "hq").get(PAGE, {"date_from": "2026-02-30"})

    assert response.status_code == 400
    assert "date_from" in response.context["errors"]


@pytest.mark.parametrize("role", ["manager_sh01", "guide_sh01"])
def test_report_page_is_closed_to_store_roles(org, role):
    assert logged_in(org, role).get(PAGE).status_code == 403


def test_report_page_exports_csv(org, ledger):
    response = logged_in(org, "hq").get(PAGE, {"group_by": "region", "export": "csv"})

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[-1] == "TOTAL,,8,400.00,20.00,12.00,32.00,0.00,0"


@pytest.mark.parametrize(
    ("role", "linked"), [("hq", True), ("region_east", True), ("guide_sh01", False)]
)
def test_start_page_links_the_report(org, role, linked):
    html = logged_in(org, role).get("/admin/").content.decode()

    assert (PAGE in html) is linked


def test_report_page_shows_the_top_groups_first_then_all(org, ledger, monkeypatch):
    from apps.commissions import admin_views

    monkeypatch.setattr(admin_views, "TOP_GROUPS", 2)
    client = logged_in(org, "hq")

    top = client.get(PAGE, {"group_by": "guide"})
    everything = client.get(PAGE, {"group_by": "guide", "show": "all"})

    assert [row["key"] for row in top.context["rows"]] == ["", "M-SH01"]  # 20.00, then 3.00
    assert 'data-testid="report-show-all"' in top.content.decode()
    assert len(everything.context["rows"]) == 5
    assert 'data-testid="report-show-all"' not in everything.content.decode()


def test_report_pickers_offer_the_codes_in_the_callers_scope(org, ledger):
    hq = logged_in(org, "hq").get(PAGE).context["pickers"]
    region = logged_in(org, "region_east").get(PAGE).context["pickers"]

    assert [code for code, _name in hq["brands"]] == ["AUR", "BOR"]
    assert sorted(code for code, _name in hq["stores"]) == ["BJ01", "SH01", "SH02"]
    assert sorted(code for code, _name in region["stores"]) == ["SH01", "SH02"]
    assert sorted(code for code, _name in region["guides"]) == ["G-SH01", "G-SH02", "M-SH01"]


def test_a_picker_with_too_many_codes_is_left_out(org, ledger, monkeypatch):
    from apps.commissions import admin_views

    monkeypatch.setattr(admin_views, "PICKER_LIMIT", 2)
    pickers = logged_in(org, "hq").get(PAGE).context["pickers"]

    assert pickers["stores"] == [] and len(pickers["brands"]) == 2

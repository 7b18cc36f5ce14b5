"""HQ operations run the commission report at a desk and download it as CSV.

Same chromium launch as the phone test; the downloaded CSV's totals row must
equal what ``GET /api/v1/reports/commissions/`` answers for the same filters.
"""

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.test_phone_admin import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.commissions.factories import CommissionEntryFactory, SettlementFactory

DESK = {"width": 1280, "height": 900}
FILTERS = {
    "date_from": "2026-11-01",
    "date_to": "2026-11-30",
    "region": "EAST",
    "group_by": "store",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture
def november_ledger(org):
    """Commission over November for every guide, some of it settled, and one October entry."""
    for offset, guide in enumerate(org.guides.values()):
        settlement = SettlementFactory(
            guide=guide, brand=org.brands[0], period_start=dt.date(2026, 11, 2)
        )
        for day in range(1, 29, 3):
            CommissionEntryFactory(
                guide=guide,
                brand=org.brands[0],
                business_date=dt.date(2026, 11, day),
                base_amount=Decimal(f"{100 + 37 * day + offset}.15"),
                settlement=settlement if day < 10 else None,
            )
    CommissionEntryFactory(guide=org.guides["G-SH01"], business_date=dt.date(2026, 10, 31))
    return org


@pytest.fixture
def desk_page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESK, locale="zh-CN", accept_downloads=True)
        yield context.new_page()
        context.close()
        browser.close()


def test_hq_downloads_a_csv_whose_totals_equal_the_api(live_server, november_ledger, desk_page):
    page = desk_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "hq")
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.click("[data-testid=commission-report-link]")
    page.wait_for_selector("[data-testid=commission-report]")
    for name, value in FILTERS.items():
        if name == "group_by":
            page.select_option(f"select[name={name}]", value)
        else:
            page.fill(f"input[name={name}]", value)
    page.click("[data-testid=report-filters] button[type=submit]")
    page.wait_for_selector("[data-testid=report-totals]")
    page.screenshot(path=ARTIFACTS / "hq-commission-report.png", full_page=True)
    page_totals = page.inner_text("[data-testid=report-totals]")

    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    # The API over HTTP with the same session, from the same live server.
    api = page.request.get(f"{live_server.url}/api/v1/reports/commissions/", params=FILTERS).json()

    lines = list(csv.reader(io.StringIO(text)))
    assert download.suggested_filename == "commission-report-store.csv"
    assert [line[0] for line in lines[1:-1]] == [row["key"] for row in api["rows"]]
    assert lines[-1] == [
        "TOTAL", "", str(api["totals"]["entries"]), api["totals"]["sales"],
        api["totals"]["store_commission"], api["totals"]["guide_commission"],
        api["totals"]["amount"], api["totals"]["bonus"], str(api["totals"]["points"]),
    ]  # fmt: skip
    assert api["totals"]["entries"] == 30  # 3 eastern guides × 10 November days
    assert api["totals"]["amount"] in page_totals


def test_the_report_on_a_phone_keeps_every_amount_on_screen(live_server, november_ledger):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("input[name=username]", "hq")
        page.fill("input[name=password]", "pass-word-123")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/admin/commissions/report/?group_by=store")
        page.wait_for_selector("[data-testid=report-totals]")
        page.screenshot(path=ARTIFACTS / "hq-commission-report-phone.png", full_page=True)
        amounts = page.locator("[data-testid=report-row-amount]")
        boxes = [amounts.nth(i).bounding_box() for i in range(amounts.count())]
        scrolls_sideways = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        browser.close()

    assert boxes and all(box["x"] + box["width"] <= 390 for box in boxes)
    assert not scrolls_sideways

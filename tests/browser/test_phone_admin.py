"""A guide uses the admin on a 390×844 phone: no sideways scrolling, usable buttons.

Drives Debian's chromium (``/usr/bin/chromium``) through Playwright; never
``playwright install``. Screenshots land in ``tests/artifacts/`` for a person
to look at.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.commissions.factories import CommissionEntryFactory, SettlementFactory
from tests.factories import CustomerFactory, MembershipFactory

CHROMIUM = Path("/usr/bin/chromium")
# Flags these machines need: no sandbox as root, no GPU, and nothing that
# reaches out to the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
MIN_TAP_TARGET_PX = 44

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture
def guide_with_members(org):
    guide = org.guides["G-SH01"]
    for number, name in enumerate(["张伟", "王芳", "李娜", "刘洋", "欧阳晓明"], start=1):
        MembershipFactory(
            guide=guide, customer=CustomerFactory(phone=f"1367777{number:04d}", name=name)
        )
    # Some commission over the last 30 days, today's partly settled.
    today = timezone.localdate()
    settlement = SettlementFactory(guide=guide, brand=org.brands[0], period_start=today)
    for days_ago in range(0, 30, 2):
        CommissionEntryFactory(
            guide=guide,
            brand=org.brands[0],
            business_date=today - dt.timedelta(days=days_ago),
            base_amount=Decimal(f"{180 + 23 * (days_ago % 7)}.00"),
            settlement=settlement if days_ago == 0 else None,
        )
    CommissionEntryFactory(guide=guide, brand=org.brands[0], business_date=today)
    return org.users["guide_sh01"]


@pytest.fixture
def phone_page():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
        yield context.new_page()
        context.close()
        browser.close()


def overflow(page) -> dict:
    """Return the page's and the member table's widths against the screen's."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            return {
                page: document.documentElement.scrollWidth,
                screen: window.innerWidth,
                table: table ? table.scrollWidth : 0,
                tableBox: table ? table.parentElement.clientWidth : 0,
            };
        }"""
    )


def test_guide_uses_dashboard_and_member_list_on_a_phone(
    live_server, guide_with_members, phone_page
):
    page = phone_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "guide_sh01")
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=guide-dashboard]")

    dashboard = overflow(page)
    page.screenshot(path=ARTIFACTS / "guide-dashboard-390x844.png", full_page=True)
    new_members = page.inner_text("[data-testid=new-members-count]")
    button_heights = [
        box["height"] for box in (b.bounding_box() for b in page.locator(".scrm-button").all())
    ]

    page.goto(f"{live_server.url}/admin/customers/membership/")
    page.wait_for_selector("#result_list")
    members = overflow(page)
    page.screenshot(path=ARTIFACTS / "guide-members-390x844.png", full_page=True)
    rows = page.locator("#result_list tbody tr").count()
    html = page.content()

    assert dashboard["page"] <= dashboard["screen"]
    assert members["page"] <= members["screen"]
    assert members["table"] <= members["tableBox"], "the member table scrolls sideways"
    assert new_members == "6"
    assert button_heights and min(button_heights) >= MIN_TAP_TARGET_PX
    assert rows == 6
    assert "136****0001" in html and "13677770001" not in html

"""The guide's phone, in Chinese, at 390×844: every page as a guide and as a store manager,
and the whole recruiting path from a shopper's scan to the guide's Recruit page.

Drives Debian's chromium through Playwright (one browser for the module, short
timeouts). Each page: nothing wider than the screen, amounts inside it, tap
targets at least 44 px high, no English left on the page.
"""

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from apps.core import sms
from apps.customers.models import AssignmentEvent, Customer, Membership
from apps.engagement.services import follow_up_create_manual, note_add, tag_add
from apps.stores.models import Brand, Store
from tests.browser.test_phone_admin import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, MIN_TAP_TARGET_PX
from tests.commissions.factories import CommissionEntryFactory, OrderFactory, SettlementFactory
from tests.factories import CustomerFactory, MembershipFactory

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Words allowed to stay Latin on a Chinese page: the language switch, file kinds, units.
LATIN_ALLOWED = {"English", "PNG", "SVG", "km", "SCRM", "Guide"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser():
    """One chromium for the module. Playwright's sync API keeps an event loop running in
    this thread, where Django would refuse the ORM calls of the tests; they are plain
    synchronous calls, so the check is lifted for the module's duration."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def shop(org):
    """SH01 as a guide's day looks: named members, purchases, commission, follow-ups, tags."""
    Brand.objects.filter(pk=org.brands[0].pk).update(name="极光")
    Brand.objects.filter(pk=org.brands[1].pk).update(name="北辰")
    Store.objects.filter(pk=org.stores["SH01"].pk).update(name="上海南京西路店")
    guide, manager = org.guides["G-SH01"], org.guides["M-SH01"]
    guide.name, manager.name = "何杰", "王芳"
    guide.save(), manager.save()
    aurora = Brand.objects.get(pk=org.brands[0].pk)
    today = timezone.localdate()
    members = [org.members["G-SH01"]]
    Customer.objects.filter(pk=members[0].customer_id).update(name="林晓")
    for number, name in enumerate(["张伟", "李娜", "欧阳晓明"], start=1):
        members.append(
            MembershipFactory(
                guide=guide,
                brand=aurora,
                customer=CustomerFactory(phone=f"1367777{number:04d}", name=name),
            )
        )
    settlement = SettlementFactory(guide=guide, brand=aurora, period_start=today)
    for number, member in enumerate(members):
        Membership.objects.filter(pk=member.pk).update(distance_km=1.2345 + number)
        AssignmentEvent.objects.create(
            membership=member, to_store=member.store, to_guide=guide, reason="explicit"
        )
        order = OrderFactory(
            brand=aurora,
            store=member.store,
            member_phone=member.customer.phone,
            amount=Decimal("1288.00") + number,
            business_date=today - dt.timedelta(days=number),
            attributed_guide=guide,
        )
        CommissionEntryFactory(
            order=order, guide=guide, store=member.store, brand=aurora,
            base_amount=order.amount, amount=Decimal("38.64") + number,
            business_date=order.business_date, settlement=settlement if number else None,
        )  # fmt: skip
        CommissionEntryFactory(
            order=order, beneficiary="store", guide=None, store=member.store, brand=aurora,
            category="x", base_amount=order.amount, amount=Decimal("64.40"),
            business_date=order.business_date,
        )  # fmt: skip
        due = today - dt.timedelta(days=number % 2)
        follow_up_create_manual(
            membership=member, title="邀请参加新品品鉴会", due_date=due, user=None
        )
        tag_add(membership=member, name=["VIP", "常客", "爱运动", "新客"][number], user=None)
    Membership.objects.filter(pk__in=[m.pk for m in members]).update(requested_guide=guide)
    note_add(membership=members[0], body="喜欢蓝色，尺码 M", user=org.users["guide_sh01"])
    return members


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_selector(".scrm-dash")


def check_page(page, name: str) -> dict:
    """Measure the page as a person at 390 px would meet it; save a screenshot."""
    page.screenshot(path=ARTIFACTS / f"{name}-390x844.png", full_page=True)
    return page.evaluate(
        """() => {
            const content = document.querySelector('.scrm-dash') || document.querySelector('main');
            // A checkbox is tapped through its label, which must be the 44 px target.
            const target = el => (el.type === 'checkbox' && el.closest('label')) || el;
            const tappable = 'a, button, input:not([type=hidden]), select, textarea';
            const targets = [...content.querySelectorAll(tappable)]
                .filter(el => el.offsetParent !== null)
                .map(el => ({tag: el.tagName, text: (el.innerText || el.value || '').slice(0, 30),
                             height: target(el).getBoundingClientRect().height}));
            const money = '.scrm-money, .scrm-card__figure, .scrm-entry__amount';
            const amounts = [...document.querySelectorAll(money)]
                .map(el => el.getBoundingClientRect().right);
            return {
                page: document.documentElement.scrollWidth,
                screen: window.innerWidth,
                small: targets.filter(t => t.height < 44),
                amountsRight: amounts.length ? Math.max(...amounts) : 0,
                text: document.body.innerText,
            };
        }"""
    )


def latin_words(text: str) -> set[str]:
    return (
        set(re.findall(r"(?<![A-Za-z0-9@._-])[A-Za-z]{4,}(?![A-Za-z0-9@._-])", text))
        - LATIN_ALLOWED
    )


PAGES = [
    ("dashboard", "/admin/"),
    ("members", "/admin/my/members/"),
    ("member", "/admin/my/members/{member}/"),
    ("follow-ups", "/admin/my/follow-ups/"),
    ("commission", "/admin/my/commission/"),
    ("recruit", "/admin/my/recruit/"),
]


@pytest.mark.parametrize("username", ["guide_sh01", "manager_sh01"])
def test_every_phone_page_fits_the_phone_in_chinese(live_server, shop, phone, username):
    log_in(phone, live_server, username)
    problems = {}
    for name, path in PAGES:
        phone.goto(live_server.url + path.format(member=shop[0].pk))
        phone.wait_for_selector(".scrm-dash")
        measured = check_page(phone, f"{username}-{name}")
        if measured["page"] > measured["screen"]:
            problems[f"{name}: scrolls sideways"] = measured["page"]
        if measured["amountsRight"] > measured["screen"]:
            problems[f"{name}: an amount is off screen"] = measured["amountsRight"]
        if measured["small"]:
            problems[f"{name}: taps under {MIN_TAP_TARGET_PX} px"] = measured["small"][:3]
        if latin_words(measured["text"]):
            problems[f"{name}: English left"] = sorted(latin_words(measured["text"]))[:10]
        assert "1367777" not in measured["text"] or "136****" in measured["text"]
    phone.goto(f"{live_server.url}/admin/")
    phone.evaluate(
        """() => [...document.querySelectorAll('[x-on\\\\:click]')]
            .find(el => el.getAttribute('x-on:click') === 'sidebarToggle()' && el.offsetParent)
            .click()"""
    )
    phone.wait_for_selector("#nav-sidebar-apps", state="visible")
    phone.screenshot(path=ARTIFACTS / f"{username}-sidebar-390x844.png")
    # The text a person reads: icon ligatures ("dashboard", "group") are pictures.
    sidebar = phone.evaluate(
        """() => {
            const nav = document.querySelector('#nav-sidebar-inner').cloneNode(true);
            nav.querySelectorAll('.material-symbols-outlined').forEach(icon => icon.remove());
            document.body.appendChild(nav);
            const text = nav.innerText;
            nav.remove();
            return text;
        }"""
    )

    assert problems == {}
    items = [line.strip() for line in sidebar.split("\n") if line.strip()]
    assert items[items.index("我的工作") + 1 :][:5] == [
        "首页",
        "我的会员",
        "回访",
        "我的佣金",
        "拉新",
    ]
    assert "佣金方案" not in sidebar and not latin_words(sidebar)


def test_a_shopper_joins_through_the_guides_qr_code(live_server, shop, phone, browser):
    log_in(phone, live_server, "guide_sh01")
    phone.goto(f"{live_server.url}/admin/my/recruit/")
    before = int(phone.inner_text("[data-testid=recruit-week]"))
    link = phone.locator("[data-testid=recruit-link]").first.input_value()

    shopper = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    shopper.set_default_timeout(5_000)
    page = shopper.new_page()
    page.goto(link)
    page.fill("#id_phone", "13998765432")
    page.click("[data-testid=send-code]")
    page.wait_for_selector("[data-testid=code-sent]")
    code = re.search(r"\d{6}", sms.outbox[-1].text).group()
    signup = check_page(page, "shopper-signup")
    page.fill("#id_code", code)
    page.fill("#id_name", "陈静")
    page.check("[data-testid=consent]")
    page.click("[data-testid=join]")
    page.wait_for_selector("[data-testid=welcome]")
    welcome = page.inner_text("body")
    page.screenshot(path=ARTIFACTS / "shopper-welcome-390x844.png", full_page=True)
    shopper.close()

    phone.goto(f"{live_server.url}/admin/my/recruit/")
    after = int(phone.inner_text("[data-testid=recruit-week]"))

    membership = Membership.objects.get(customer__phone="13998765432")
    assert (membership.guide.name, membership.store.name) == ("何杰", "上海南京西路店")
    assert membership.consents.get().channel == "signup_page"
    assert "你的导购是上海南京西路店的何杰" in welcome
    assert after == before + 1
    assert signup["page"] <= signup["screen"] and not latin_words(signup["text"])


def test_screenshots_for_the_readme(live_server, shop, phone):
    """Refresh docs/screenshots when asked (UPDATE_SCREENSHOTS=1): the guide's pages.

    The shopper's sign-up and welcome pages come from the recruiting test's
    artifacts (``shopper-*-390x844.png``).
    """
    import os

    if not os.environ.get("UPDATE_SCREENSHOTS"):
        pytest.skip("set UPDATE_SCREENSHOTS=1 to refresh docs/screenshots")
    log_in(phone, live_server, "guide_sh01")
    for name, path in PAGES:
        phone.goto(live_server.url + path.format(member=shop[0].pk))
        phone.wait_for_selector(".scrm-dash")
        phone.screenshot(path=ARTIFACTS / f"readme-{name}.png", full_page=True)
        shutil.copy(ARTIFACTS / f"readme-{name}.png", SCREENSHOTS / f"guide-{name}-phone.png")


@pytest.fixture
def incentives(org, shop):
    """This month's targets for SH01's guide and manager (极光), a bonus plan, points."""
    from apps.core.scoping import Scope
    from apps.incentives import services as incentive_services
    from apps.incentives.models import PointsAccount, PointsMovement

    aurora = Brand.objects.get(pk=org.brands[0].pk)
    month = timezone.localdate().replace(day=1)
    incentive_services.bonus_plan_create(
        name="月度奖金", brand=aurora, beneficiary="guide", basis="achievement",
        brackets=[{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "rate": "2"}],
        valid_from=month,
    )  # fmt: skip
    for employee_no, amount in [("G-SH01", "1000"), ("M-SH01", "80000")]:
        incentive_services.sales_target_set(
            scope=Scope(everything=True), actor=org.users["hq"], brand=aurora, month=month,
            amount=Decimal(amount), guide=org.guides[employee_no],
        )  # fmt: skip
    for employee_no, points in [("G-SH01", 1280), ("M-SH01", 960)]:
        account = PointsAccount.objects.create(
            guide=org.guides[employee_no], brand=aurora, balance=points
        )
        PointsMovement.objects.create(
            account=account, kind="sales", points=points, month=month, reason="销售积分",
            reference=f"browser:{employee_no}", created_at=timezone.now(),
        )  # fmt: skip


@pytest.mark.parametrize("username", ["guide_sh01", "manager_sh01"])
def test_target_progress_and_points_fit_the_phone_in_chinese(
    live_server, incentives, phone, username
):
    log_in(phone, live_server, username)
    phone.goto(f"{live_server.url}/admin/")
    phone.wait_for_selector("[data-testid=target-progress]")
    measured = check_page(phone, f"{username}-incentives")
    blocks = phone.evaluate(
        """() => ['target-progress', 'points'].map(id => {
            const box = document.querySelector(`[data-testid=${id}]`).getBoundingClientRect();
            return box.right;
        })"""
    )
    progress = phone.inner_text("[data-testid=target-progress]")
    points = phone.inner_text("[data-testid=points]")

    assert measured["page"] <= measured["screen"], "scrolls sideways"
    assert max(blocks) <= measured["screen"]
    assert not latin_words(progress + points)
    assert "预计奖金" in progress and "已达档位" in progress
    if username == "guide_sh01":
        # Today's sale alone (1,288) beats a 1,000 target: both brackets.
        assert phone.locator("[data-testid=target-row]").count() == 1
        assert "已达档位：2 / 2" in progress
        assert "1280" in points and "店内第 1 名 / 共 2 人" in points
    else:
        # The manager sees both guides of the store.
        assert phone.locator("[data-testid=target-row]").count() == 2
        assert "何杰" in progress and "王芳" in progress
        assert "960" in points and "店内第 2 名 / 共 2 人" in points

"""The admin and the API docs work under the Content-Security-Policy, which blocks injected code.

Chromium reports every resource or script the policy refuses as a
``securitypolicyviolation`` event; the pages an HQ user and a guide open must
raise none, Alpine.js (unfold's menus and filters) must start, and a script
injected into the page must not run.
"""

import pytest

from tests.browser.test_hq_report import DESK
from tests.browser.test_phone_admin import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.commissions.factories import CommissionEntryFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
    ),
]

# Every violation is recorded on the window before any page script runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""
HQ_PAGES = [
    "/admin/",
    "/admin/customers/membership/",
    "/admin/customers/membership/?assignment_status__exact=assigned",
    "/admin/guides/guide/",
    "/admin/stores/store/add/",
    "/admin/commissions/commissionentry/",
    "/admin/commissions/report/?group_by=store",
]
# Redoc's page asks Google Fonts and Redocly's CDN for a font and a logo: the
# policy refuses them on purpose (nothing leaves for a third party) and the
# docs render without.
DOCS = {"/api/docs/": "#swagger-ui .info .title", "/api/redoc/": "redoc h1"}
GUIDE_PAGES = ["/admin/", "/admin/customers/membership/", "/admin/commissions/commissionentry/"]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _signed_in_page(browser, live_server, username: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _violations_on(page, live_server, paths) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, path
        assert "Content-Security-Policy" in response.headers or (
            "content-security-policy" in response.headers
        ), path
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("() => window.__cspViolations")
        if violations:
            found[path] = violations
    return found


@pytest.fixture
def recruiting_token(org):
    from apps.recruiting.links import RecruitCode, link_token

    guide = org.guides["G-SH01"]
    return link_token(RecruitCode(org.brands[0].pk, guide.store_id, guide.pk))


def test_the_public_sign_up_page_and_the_poster_work_under_the_policy(
    live_server, recruiting_token, browser
):
    # Given a shopper on a phone, on the page a guide's QR code opens
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    response = page.goto(f"{live_server.url}/join/{recruiting_token}/")
    page.wait_for_load_state("networkidle")

    # Then the page's own script runs (it found its texts) and nothing was refused
    assert response.ok and "content-security-policy" in response.headers
    assert page.evaluate("() => Boolean(window.SCRM_LOCATION_TEXT)")
    assert page.evaluate("() => window.__cspViolations") == []

    # And HQ prints the store's poster: the Print button works without an inline handler
    hq = _signed_in_page(browser, live_server, "hq", DESK)
    hq.goto(f"{live_server.url}/admin/recruit/poster/{recruiting_token}/")
    hq.evaluate("() => { window.print = () => { window.__printed = true; }; }")
    hq.click("[data-print]")
    assert hq.evaluate("() => window.__printed") is True
    assert hq.evaluate("() => window.__cspViolations") == []


@pytest.fixture
def with_an_entry(org):
    CommissionEntryFactory(guide=org.guides["G-SH01"], brand=org.brands[0])
    return org


def test_hq_pages_and_api_docs_raise_no_violation(live_server, with_an_entry, browser):
    page = _signed_in_page(browser, live_server, "hq", DESK)

    assert _violations_on(page, live_server, HQ_PAGES) == {}
    page.goto(f"{live_server.url}/admin/")
    assert page.evaluate("() => Boolean(window.Alpine && window.Alpine.version)")
    docs = _violations_on(page, live_server, DOCS)
    for path, rendered in DOCS.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector(f"{rendered}:has-text('Guide SCRM API')", timeout=20_000)
    own = [v for found in docs.values() for v in found if live_server.url in v or "inline" in v]
    assert own == [], docs


def test_guide_pages_on_a_phone_raise_no_violation(live_server, org, browser):
    page = _signed_in_page(browser, live_server, "guide_sh01", PHONE)

    assert _violations_on(page, live_server, GUIDE_PAGES) == {}


def test_an_injected_script_does_not_run(live_server, org, browser):
    page = _signed_in_page(browser, live_server, "hq", DESK)
    page.goto(f"{live_server.url}/admin/stores/store/")

    page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.__injected = true';
            document.body.appendChild(script);
            const img = document.createElement('img');
            img.src = 'https://attacker.example/leak.png';
            document.body.appendChild(img);
        }"""
    )
    page.wait_for_timeout(200)

    assert page.evaluate("() => window.__injected") is None
    violations = " ".join(page.evaluate("() => window.__cspViolations"))
    assert "script-src" in violations and "img-src" in violations

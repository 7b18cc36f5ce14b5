"""Where people see incentives: the phone dashboard, the store's guides, the HQ report."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from apps.core.scoping import scope_for_user
from apps.dashboards import guide as guide_module
from apps.dashboards.guide import guide_dashboard_context
from apps.incentives import services
from apps.incentives.models import IncentivePolicy, PointsAccount, PointsMovement
from apps.incentives.selectors import incentive_leaderboard
from tests.commissions.factories import CommissionPlanFactory
from tests.conftest import token_client
from tests.incentives.conftest import EVERYTHING, sale

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)
TODAY = dt.date(2026, 11, 18)
DAY = dt.date(2026, 11, 10)
REPORT = "/api/v1/reports/commissions/"


@pytest.fixture
def targets(org):
    """November targets of 10,000 for every guide (Aurora), a 1 % / 2 % plan above 100 / 120 %.

    Sales: G-SH01 13,000 (130 %), M-SH01 5,000, G-SH02 11,000, G-BJ01 2,000. Points: G-SH01 80,
    M-SH01 120, G-SH02 30 (Aurora), G-SH01 10 (Borealis).
    """
    aurora, borealis = org.brands
    hq = org.users["hq"]
    plan = CommissionPlanFactory(brand=aurora)
    services.bonus_plan_create(
        name="Autumn", brand=aurora, beneficiary="guide", basis="achievement",
        brackets=[{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "rate": "2"}],
        valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    sales = {"G-SH01": "13000", "M-SH01": "5000", "G-SH02": "11000", "G-BJ01": "2000"}
    for employee_no, amount in sales.items():
        guide = org.guides[employee_no]
        services.sales_target_set(
            scope=EVERYTHING, actor=hq, brand=aurora, month=NOV, amount=Decimal("10000"),
            guide=guide,
        )  # fmt: skip
        sale(guide=guide, plan=plan, amount=Decimal(amount), day=DAY)
    for employee_no, brand, points in [
        ("G-SH01", aurora, 80), ("M-SH01", aurora, 120), ("G-SH02", aurora, 30),
        ("G-SH01", borealis, 10),
    ]:  # fmt: skip
        account = PointsAccount.objects.create(
            guide=org.guides[employee_no], brand=brand, balance=points
        )
        PointsMovement.objects.create(
            account=account, kind="sales", points=points, month=NOV, reason="earned",
            reference=f"t:{employee_no}:{brand.code}", created_at="2026-11-02T00:00:00Z",
        )  # fmt: skip
    return org


def dashboard_of(user):
    return guide_dashboard_context(user, scope=scope_for_user(user), today=TODAY)


def test_guide_sees_their_progress_bracket_projected_bonus_points_and_rank(targets):
    incentives = dashboard_of(targets.users["guide_sh01"])["incentives"]

    [row] = incentives["progress"]
    assert row["guide"] == targets.guides["G-SH01"]
    assert (row["net_sales"], row["achievement"], row["width"]) == (
        Decimal("13000.00"), Decimal("130.00"), 100,
    )  # fmt: skip
    # 1 % of 2,000 (100–120 %) + 2 % of 1,000 (above 120 %): both brackets reached
    assert (row["brackets_reached"], row["brackets"]) == (2, 2)
    assert row["projected_bonus"] == Decimal("40.00") and row["awarded"] is None
    # Aurora: 80 behind the manager's 120 in SH01; Borealis: alone
    assert [(a.brand.code, a.balance, a.store_rank, a.store_accounts) for a in
            incentives["points"]] == [("AUR", 80, 2, 2), ("BOR", 10, 1, 1)]  # fmt: skip


def test_store_manager_sees_each_guide_of_the_store_and_no_other_store(targets):
    incentives = dashboard_of(targets.users["manager_sh01"])["incentives"]

    assert [(r["guide"].employee_no, r["achievement"], r["width"]) for r in
            incentives["progress"]] == [
        ("G-SH01", Decimal("130.00"), 100), ("M-SH01", Decimal("50.00"), 50),
    ]  # fmt: skip
    assert [(a.balance, a.store_rank) for a in incentives["points"]] == [(120, 1)]


def test_the_dashboard_page_draws_the_blocks_in_chinese(targets, monkeypatch):
    monkeypatch.setattr(guide_module, "timezone", SimpleNamespace(localdate=lambda: TODAY))
    client = Client()
    client.force_login(targets.users["guide_sh01"])

    page = client.get("/admin/", headers={"accept-language": "zh-hans"}).content.decode()

    assert 'data-testid="target-progress"' in page and 'style="width: 100%"' in page
    assert "130.00%" in page and "¥40.00" in page
    assert "预计奖金" in page and "店内第 2 名" in page


def test_leaderboard_ranks_stores_by_achievement_within_scope(targets):
    nov = NOV
    hq = incentive_leaderboard(scope=EVERYTHING, month=nov, group_by="store")
    east = incentive_leaderboard(
        scope=scope_for_user(targets.users["region_east"]), month=nov, group_by="store"
    )
    by_region = incentive_leaderboard(scope=EVERYTHING, month=nov, group_by="region")

    # SH02 110 %, SH01 (13,000 + 5,000) / 20,000 = 90 %, BJ01 20 %
    assert [(r.rank, r.key, r.achievement) for r in hq] == [
        (1, "SH02", Decimal("110.00")),
        (2, "SH01", Decimal("90.00")),
        (3, "BJ01", Decimal("20.00")),
    ]
    sh01 = hq[1]
    assert (sh01.guides, sh01.net_sales, sh01.bonus, sh01.points) == (
        2, Decimal("18000.00"), Decimal("40.00"), 210,
    )  # fmt: skip
    assert [r.key for r in east] == ["SH02", "SH01"]  # not Beijing
    assert [(r.key, r.achievement) for r in by_region] == [
        ("EAST-SH", Decimal("96.67")), ("NORTH", Decimal("20.00")),
    ]  # fmt: skip


def test_leaderboard_after_the_close_shows_the_bonus_written(targets):
    aurora = targets.brands[0]
    IncentivePolicy.objects.create(brand=aurora, close_hold_days=0)
    services.bonus_month_close(brand_id=aurora.pk, month=NOV, run_date=dt.date(2026, 12, 1))

    [sh02] = incentive_leaderboard(scope=EVERYTHING, month=NOV, group_by="store")[:1]

    assert (sh02.key, sh02.bonus) == ("SH02", Decimal("10.00"))  # 1 % of 1,000


def test_report_api_has_bonus_and_points_columns_and_the_leaderboard(targets):
    client = token_client(targets.users["region_east"])

    body = client.get(
        REPORT,
        {"group_by": "store", "date_from": "2026-11-01", "date_to": "2026-11-30",
         "leaderboard_month": "2026-11", "leaderboard_by": "brand"},
    ).json()  # fmt: skip

    assert [(r["key"], r["bonus"], r["points"]) for r in body["rows"]] == [
        ("SH01", "0.00", 210), ("SH02", "0.00", 30),
    ]  # fmt: skip
    assert body["totals"]["points"] == 240  # Beijing's guides are not the region's
    board = body["leaderboard"]
    assert (board["month"], board["group_by"]) == ("2026-11-01", "brand")
    # EAST's three guides: 29,000 of 30,000
    assert [(r["rank"], r["key"], r["achievement"], r["points"]) for r in board["rows"]] == [
        (1, "AUR", "96.67", 230),
        (2, "BOR", None, 10),
    ]


def test_report_counts_bonus_entries_in_the_bonus_column(targets):
    aurora = targets.brands[0]
    IncentivePolicy.objects.create(brand=aurora, close_hold_days=0)
    services.bonus_month_close(brand_id=aurora.pk, month=NOV, run_date=dt.date(2026, 12, 1))
    client = token_client(targets.users["hq"])

    body = client.get(REPORT, {"group_by": "guide", "date_from": "2026-12-01"}).json()

    assert {r["key"]: r["bonus"] for r in body["rows"]} == {"G-SH01": "40.00", "G-SH02": "10.00"}
    assert body["totals"]["bonus"] == "50.00"
    csv = client.get(REPORT, {"group_by": "guide", "date_from": "2026-12-01", "export": "csv"})
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",amount,bonus,points")
    assert lines[-1].startswith("TOTAL,,2,") and lines[-1].endswith(",50.00,50.00,0")


def test_report_leaderboard_month_is_checked(targets):
    response = token_client(targets.users["hq"]).get(REPORT, {"leaderboard_month": "2026-13"})

    assert response.status_code == 400
    assert "leaderboard_month" in response.json()


def test_report_page_shows_the_columns_and_the_leaderboard(targets):
    client = Client()
    client.force_login(targets.users["hq"])

    page = client.get(
        "/admin/commissions/report/", {"leaderboard_month": "2026-11"}
    ).content.decode()

    assert 'data-testid="report-row-points"' in page
    assert page.count('data-testid="leaderboard-row"') == 3

"""The start page of guides and store managers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from apps.commissions.selectors import CHART_DAYS, CommissionSplit, commission_summary
from apps.core.scoping import scope_for_user
from apps.dashboards.guide import guide_dashboard_context, week_start
from tests.commissions.factories import CommissionEntryFactory, SettlementFactory
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.date(2026, 11, 18)


def dashboard_of(user, today=WEDNESDAY):
    return guide_dashboard_context(user, scope=scope_for_user(user), today=today)


def test_week_starts_on_local_monday_midnight():
    start = week_start(WEDNESDAY)

    assert timezone.localtime(start).isoformat() == "2026-11-16T00:00:00+08:00"


def test_guide_sees_members_bound_to_them_this_week_and_totals_by_brand(org):
    guide = org.guides["G-SH01"]
    aurora, borealis = org.brands
    monday_morning = timezone.make_aware(dt.datetime(2026, 11, 16, 9, 0))
    last_sunday = timezone.make_aware(dt.datetime(2026, 11, 15, 23, 0))
    org.members["G-SH01"].__class__.objects.filter(pk=org.members["G-SH01"].pk).update(
        bound_at=last_sunday
    )
    fresh = MembershipFactory(guide=guide, brand=borealis, bound_at=monday_morning)
    MembershipFactory(guide=org.guides["G-SH02"], bound_at=monday_morning)  # not theirs

    dashboard = dashboard_of(org.users["guide_sh01"])

    assert dashboard["for_store"] is False
    assert dashboard["new_members_count"] == 1
    assert [m.pk for m in dashboard["new_members"]] == [fresh.pk]
    assert [(row["brand__code"], row["members"]) for row in dashboard["members_by_brand"]] == [
        (aurora.code, 1),
        (borealis.code, 1),
    ]


def test_store_manager_sees_the_whole_stores_new_members(org):
    now = timezone.make_aware(dt.datetime(2026, 11, 17, 12, 0))
    org.members["G-SH01"].__class__.objects.update(bound_at=now)

    dashboard = dashboard_of(org.users["manager_sh01"])

    assert dashboard["for_store"] is True
    assert dashboard["new_members_count"] == 2  # M-SH01's and G-SH01's, not SH02's


def test_commission_reads_zero_without_entries(org):
    dashboard = dashboard_of(org.users["guide_sh01"])

    commission = dashboard["commission"]
    assert (commission.today.settled, commission.today.unsettled) == (Decimal("0.00"),) * 2
    assert commission.month.total == Decimal("0.00")
    assert len(dashboard["chart"]) == CHART_DAYS
    assert dashboard["chart"][-1]["day"] == WEDNESDAY
    assert {bar["height"] for bar in dashboard["chart"]} == {0}
    assert dashboard["links"]["members"] == "/admin/my/members/"
    assert dashboard["links"]["commission"] == "/admin/my/commission/"


def _entry(org, employee_no, business_date, amount, *, settled=False):
    guide = org.guides[employee_no]
    settlement = SettlementFactory(guide=guide, period_start=business_date) if settled else None
    return CommissionEntryFactory(
        guide=guide,
        brand=org.brands[0],
        business_date=business_date,
        amount=Decimal(amount),
        settlement=settlement,
    )


def test_guide_sees_own_commission_split_by_settlement_and_per_day(org, django_assert_num_queries):
    yesterday = WEDNESDAY - dt.timedelta(days=1)
    _entry(org, "G-SH01", WEDNESDAY, "3.10", settled=True)
    _entry(org, "G-SH01", WEDNESDAY, "1.25")
    _entry(org, "G-SH01", yesterday, "2.00")
    _entry(org, "G-SH01", dt.date(2026, 10, 31), "50.00")  # last month: chart only
    _entry(org, "G-SH02", WEDNESDAY, "99.00")  # another store's guide
    _entry(org, "M-SH01", WEDNESDAY, "7.00")  # the manager's own line
    user = org.users["guide_sh01"]
    scope = scope_for_user(user)

    with django_assert_num_queries(2):
        summary = commission_summary(scope=scope, today=WEDNESDAY)

    assert summary.today == CommissionSplit(Decimal("3.10"), Decimal("1.25"))
    assert summary.month == CommissionSplit(Decimal("3.10"), Decimal("3.25"))
    daily = dict(summary.daily)
    assert daily[WEDNESDAY] == Decimal("4.35")
    assert daily[yesterday] == Decimal("2.00")
    assert daily[dt.date(2026, 10, 31)] == Decimal("50.00")
    assert sum(daily.values()) == Decimal("56.35")
    assert all(isinstance(amount, Decimal) for amount in daily.values())


def test_store_manager_sees_the_stores_commission(org):
    _entry(org, "G-SH01", WEDNESDAY, "1.00")
    _entry(org, "M-SH01", WEDNESDAY, "2.00", settled=True)
    _entry(org, "G-SH02", WEDNESDAY, "99.00")

    summary = commission_summary(scope=scope_for_user(org.users["manager_sh01"]), today=WEDNESDAY)

    assert summary.today == CommissionSplit(Decimal("2.00"), Decimal("1.00"))


@pytest.mark.parametrize("role", ["hq", "region_east"])
def test_roles_without_a_guide_record_get_the_default_index(org, role):
    assert dashboard_of(org.users[role]) is None


def test_guide_lands_on_the_dashboard_after_login(org, django_assert_max_num_queries):
    client = Client()
    client.force_login(org.users["guide_sh01"])
    MembershipFactory(
        guide=org.guides["G-SH01"], customer=CustomerFactory(phone="13987654321", name="李雷")
    )

    with django_assert_max_num_queries(15):
        response = client.get("/admin/")

    html = response.content.decode()
    assert 'data-testid="guide-dashboard"' in html
    assert "李雷 (139****4321)" in html
    assert "13987654321" not in html


def test_hq_gets_the_app_list(org):
    client = Client()
    client.force_login(org.users["hq"])

    html = client.get("/admin/").content.decode()

    assert 'data-testid="guide-dashboard"' not in html
    assert "/admin/stores/store/" in html

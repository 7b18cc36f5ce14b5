"""No list, detail, report, export or admin page fails on a row the database holds.

Dates reach 9999-12-31 (and 0001-01-01), amounts the limits of their
columns. Refusing such input on the way in is the ingest's job; here every
read survives it, and ``verify_ledger`` points at the dates.
"""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from apps.commissions import services
from apps.commissions.models import CommissionEntry, Order, Settlement
from tests.commissions.factories import (
    CommissionEntryFactory,
    CommissionPlanFactory,
    OrderFactory,
    SettlementFactory,
    SettlementTermsFactory,
)
from tests.conftest import token_client

pytestmark = pytest.mark.django_db

LAST_DAY, FIRST_DAY = dt.date(9999, 12, 31), dt.date(1, 1, 1)
AMOUNT_MAX = Decimal("999999999999.99")  # money_field: 14 digits, 2 places
ORDER_AMOUNT_MAX = Decimal("9999999.99")
# Enough entries at the column's limit that their sum is wider than any fixed cap.
HUGE_ENTRIES = 10_001


@pytest.fixture
def extreme_ledger(org):
    """Orders of guide G-SH01 on the first and last days a date can hold, their
    entries (T+1 and monthly) written by the ledger's own SQL, and entries and a
    settlement at the limits of their amount columns."""
    aurora, guide = org.brands[0], org.guides["G-SH01"]
    CommissionPlanFactory(brand=aurora, valid_from=FIRST_DAY)
    SettlementTermsFactory(brand=aurora, mode="T1", hold_days=1)
    SettlementTermsFactory(brand=aurora, store=org.stores["SH02"], mode="MONTHLY", hold_days=0)
    for order_no, day, store in [
        ("LAST", LAST_DAY, guide.store), ("FIRST", FIRST_DAY, guide.store),
        ("LAST-MONTHLY", LAST_DAY, org.stores["SH02"]),
    ]:  # fmt: skip
        order = OrderFactory(
            order_no=order_no, brand=aurora, store=store, amount=ORDER_AMOUNT_MAX,
            attributed_guide=guide if store == guide.store else None,
            paid_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), business_date=day,
        )  # fmt: skip
        services.commission_entries_write(order_id=order.pk)
    _huge_entries(guide, count=3)
    SettlementFactory(
        guide=guide, brand=aurora, status="settled", entries_total=AMOUNT_MAX,
        period_start=LAST_DAY, source_ref="huge",
    )  # fmt: skip
    return org


def _huge_entries(guide, *, count: int) -> None:
    """``count`` entries of ``guide`` at the limit of the amount columns (one order)."""
    plan = CommissionPlanFactory(brand=guide.store.brands.first(), category="huge")
    order = OrderFactory(brand=plan.brand, store=guide.store, attributed_guide=guide)
    template = CommissionEntryFactory.build(
        order=order, guide=guide, store=guide.store, brand=plan.brand, plan=plan,
        base_amount=AMOUNT_MAX, rate=Decimal("100.00"), amount=AMOUNT_MAX,
    )  # fmt: skip
    columns = {
        f.attname: getattr(template, f.attname)
        for f in CommissionEntry._meta.fields
        if not f.primary_key and f.name != "category"
    }
    CommissionEntry.objects.bulk_create(
        CommissionEntry(**columns, category=f"c{n}") for n in range(count)
    )


API_READS = [
    "/api/v1/settlements/",
    "/api/v1/settlements/?ordering=-period_end",
    "/api/v1/settlements/?date_from=9999-12-31",
    "/api/v1/commission-entries/",
    "/api/v1/commission-entries/?ordering=-business_date",
    "/api/v1/commission-entries/?date_from=9999-12-31",
    "/api/v1/members/",
]
REPORT_READS = [
    f"/api/v1/reports/commissions/?group_by={group_by}{export}"
    for group_by in ("region", "store", "guide", "brand", "day", "month")
    for export in ("", "&export=csv", "&export=xlsx")
] + ["/api/v1/reports/commissions/?date_from=9999-12-31&group_by=month"]


ROLES = ["hq", "region_east", "manager_sh01", "guide_sh01"]


def test_every_api_read_answers_on_extreme_rows(extreme_ledger):
    details = [
        f"/api/v1/settlements/{pk}/" for pk in Settlement.objects.values_list("pk", flat=True)
    ] + [f"/api/v1/commission-entries/{pk}/" for pk in _extreme_pks("commissionentry")]

    for role in ROLES:
        client = token_client(extreme_ledger.users[role])
        reads = API_READS + (REPORT_READS if role in ("hq", "region_east") else [])

        answers = {url: client.get(url).status_code for url in reads + details}

        assert {url for url, code in answers.items() if code >= 500} == set(), role
        assert {answers[url] for url in reads} == {200}, role


def test_the_report_totals_hold_a_sum_wider_than_any_fixed_width(org):
    # Given more entries at the column's limit than a sum of 18 digits can hold
    _huge_entries(org.guides["G-SH01"], count=HUGE_ENTRIES)

    response = token_client(org.users["hq"]).get(
        "/api/v1/reports/commissions/", {"group_by": "guide"}
    )

    assert response.status_code == 200
    total = Decimal(response.json()["totals"]["amount"])
    assert total > AMOUNT_MAX * HUGE_ENTRIES * Decimal("0.999")


def test_orders_are_read_on_extreme_rows(extreme_ledger):
    client = token_client(extreme_ledger.users["pos"])

    for order_no in ("LAST", "FIRST", "LAST-MONTHLY"):
        response = client.get(f"/api/v1/orders/{order_no}/")
        assert response.status_code == 200
    assert response.json()["business_date"] == "9999-12-31"


ADMIN_PAGES = [
    "/admin/",
    "/admin/commissions/order/",
    "/admin/commissions/commissionentry/",
    "/admin/commissions/settlement/",
    "/admin/commissions/refund/",
    "/admin/commissions/commissionentry/?business_date__gte=9999-12-31",
    "/admin/commissions/order/?business_date__year=1",
    "/admin/commissions/report/?group_by=month",
    "/admin/commissions/report/?group_by=day&export=xlsx",
]
# A drill-down whose end would fall after 9999-12-31: a bad parameter, as newer Django says.
DRILL_DOWNS = [
    "/admin/commissions/order/?business_date__year=9999",
    "/admin/commissions/order/?business_date__year=9999&business_date__month=12",
    "/admin/commissions/commissionentry/?business_date__year=9999&business_date__month=12"
    "&business_date__day=31",
    "/admin/commissions/order/?business_date__year=99999999999999999999",
    "/admin/customers/membership/?joined_at__year=9999",
]


def test_every_admin_page_answers_on_extreme_rows(extreme_ledger):
    pages = ADMIN_PAGES + [
        f"/admin/commissions/{model}/{pk}/change/"
        for model in ("order", "commissionentry", "settlement")
        for pk in _extreme_pks(model)
    ]

    for role in ROLES:
        client = Client()
        client.force_login(extreme_ledger.users[role])

        answers = {url: client.get(url).status_code for url in pages}
        drills = {url: client.get(url) for url in DRILL_DOWNS}

        assert {url for url, code in answers.items() if code >= 500} == set(), role
        assert {
            url: (r.status_code, r.get("Location", "").endswith("?e=1"))
            for url, r in drills.items()
        } == dict.fromkeys(DRILL_DOWNS, (302, True)), role


def _extreme_pks(model: str) -> list[int]:
    rows = {
        "order": Order.objects.filter(business_date__in=[LAST_DAY, FIRST_DAY]),
        "commissionentry": CommissionEntry.objects.filter(business_date__in=[LAST_DAY, FIRST_DAY]),
        "settlement": Settlement.objects.all(),
    }[model]
    return list(rows.values_list("pk", flat=True))


def test_a_settlement_period_stops_at_the_last_representable_day(extreme_ledger):
    periods = set(
        Settlement.objects.filter(entries__order__order_no__in=["LAST", "LAST-MONTHLY"])
        .values_list("mode", "period_start", "period_end")
        .distinct()
    )

    assert periods == {("T1", LAST_DAY, LAST_DAY), ("MONTHLY", dt.date(9999, 12, 1), LAST_DAY)}


def test_verify_ledger_reports_business_dates_outside_the_sane_window(extreme_ledger):
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("verify_ledger", "--grace-minutes=0", stdout=out)

    report = out.getvalue()
    assert "FAIL business_date" in report and "3 found" in report.split("FAIL business_date")[1]
    for order_no in ("LAST", "FIRST", "LAST-MONTHLY"):
        assert f"number={order_no}" in report


def test_verify_ledger_accepts_today_and_tomorrow(org):
    import django.utils.timezone as tz

    for n, day in enumerate([tz.localdate(), tz.localdate() + dt.timedelta(days=1)]):
        OrderFactory(order_no=f"NOW-{n}", brand=org.brands[0], store=org.stores["SH01"],
                     business_date=day)  # fmt: skip
    out = StringIO()

    call_command("verify_ledger", "--grace-minutes=0", stdout=out)

    assert out.getvalue().startswith("ledger OK")


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL stores a date past 9999"
)
def test_the_migration_brings_periods_written_past_9999_back(org):
    # Given a settlement opened for 10000-01-01 before periods were capped
    import importlib

    from django.apps import apps

    settlement = SettlementFactory(guide=org.guides["G-SH01"], brand=org.brands[0])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Settlement._meta.db_table} SET period_start = DATE '10000-01-01', "  # noqa: S608
            "period_end = DATE '10000-01-01' WHERE id = %s",
            [settlement.pk],
        )
    migration = importlib.import_module(
        "apps.commissions.migrations.0007_settlement_periods_within_year_9999"
    )

    # When the migration runs
    with connection.schema_editor() as schema_editor:
        migration.cap_periods(apps, schema_editor)

    # Then the settlement reads again, due on the last day a date can hold
    settlement.refresh_from_db()
    assert (settlement.period_start, settlement.period_end) == (LAST_DAY, LAST_DAY)

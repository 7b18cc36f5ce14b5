"""A closed settlement's entry count and totals are stored at close; open ones are counted live."""

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.utils import timezone

from apps.commissions import services
from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.selectors import ledger_verify
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory

pytestmark = pytest.mark.django_db

SETTLEMENTS_URL = "/api/v1/settlements/"
ADJUSTMENTS_URL = "/api/v1/commission-adjustments/"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def plan(brand):
    return CommissionPlanFactory(
        brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00")
    )


@pytest.fixture
def ingest(django_capture_on_commit_callbacks, brand, store, guide, plan):
    def _ingest(order_no, amount, paid_at):
        with django_capture_on_commit_callbacks(execute=True):
            order, _created = services.order_ingest(
                order_no=order_no, brand=brand, store=store, guide=guide,
                amount=Decimal(amount), paid_at=paid_at,
            )  # fmt: skip
        return order

    return _ingest


def listed(client) -> dict[int, dict]:
    response = client.get(SETTLEMENTS_URL)
    assert response.status_code == 200
    return {row["id"]: row for row in response.json()["results"]}


def figures(row: dict) -> tuple[str, int, Decimal, Decimal]:
    return (
        row["status"],
        row["entry_count"],
        Decimal(row["running_total"]),
        Decimal(row["entries_total"]),
    )


def assert_ledger_clean():
    assert ledger_verify(grace=dt.timedelta(0)).breaches == []


def test_closed_settlements_show_stored_counts_and_open_ones_what_they_hold_so_far(
    hq_client, ingest, guide
):
    today = timezone.localdate() - dt.timedelta(days=1)  # noon of it is past
    at = dt.datetime.combine(today, dt.time(12), tzinfo=SHANGHAI)
    ingest("A", "100.00", at)
    ingest("B", "200.00", at)
    services.settlement_run(run_date=today + dt.timedelta(days=1))
    closed = Settlement.objects.get(beneficiary="guide")

    # A late order of the same day and an adjustment land in the next open settlement.
    ingest("LATE", "50.00", at)
    response = hq_client.post(
        ADJUSTMENTS_URL,
        {"reference": "ADJ-1", "brand": "AUR", "beneficiary": "guide",
         "guide": guide.employee_no, "amount": "-1.25", "reason": "Keyed twice"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.data
    open_ = Settlement.objects.get(beneficiary="guide", status=Settlement.Status.OPEN)

    rows = listed(hq_client)
    assert figures(rows[closed.pk]) == ("settled", 2, Decimal("9.00"), Decimal("9.00"))
    assert figures(rows[open_.pk]) == ("open", 2, Decimal("0.25"), Decimal("0.00"))
    detail = hq_client.get(f"{SETTLEMENTS_URL}{open_.pk}/").json()
    assert (detail["entry_count"], detail["running_total"]) == (2, "0.25")

    services.settlement_run(run_date=today + dt.timedelta(days=2))

    rows = listed(hq_client)
    assert figures(rows[open_.pk]) == ("settled", 2, Decimal("0.25"), Decimal("0.25"))
    assert figures(rows[closed.pk]) == ("settled", 2, Decimal("9.00"), Decimal("9.00"))
    assert_ledger_clean()


def test_a_closed_settlement_is_listed_with_its_stored_figures(hq_client, ingest):
    today = timezone.localdate() - dt.timedelta(days=1)  # noon of it is past
    ingest("A", "100.00", dt.datetime.combine(today, dt.time(12), tzinfo=SHANGHAI))
    services.settlement_run(run_date=today + dt.timedelta(days=1))
    closed = Settlement.objects.get(beneficiary="guide")
    # Read as stored, not recounted: a stored figure changed behind the app shows.
    Settlement.objects.filter(pk=closed.pk).update(entry_count=7)

    assert listed(hq_client)[closed.pk]["entry_count"] == 7


def test_t0_settlements_are_written_with_their_count(ingest, brand):
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)

    ingest("T0-1", "100.00", timezone.now())

    settlements = Settlement.objects.order_by("beneficiary")
    assert [(s.beneficiary, s.entry_count, s.entries_total) for s in settlements] == [
        ("guide", 1, Decimal("3.00")),
        ("store", 1, Decimal("5.00")),
    ]
    assert_ledger_clean()


def test_the_migration_backfills_closed_settlements_and_leaves_open_ones(ingest):
    today = timezone.localdate() - dt.timedelta(days=1)  # noon of it is past
    at = dt.datetime.combine(today, dt.time(12), tzinfo=SHANGHAI)
    ingest("A", "100.00", at)
    ingest("B", "100.00", at)
    services.settlement_run(run_date=today + dt.timedelta(days=1))
    ingest("LATE", "100.00", at)  # into an open settlement
    Settlement.objects.update(entry_count=0)  # as the column was added
    migration = importlib.import_module("apps.commissions.migrations.0011_settlement_entry_count")

    with connection.cursor() as cursor:
        # The two calls the backfill makes of a schema editor (SQLite refuses
        # a real one inside the test's transaction).
        editor = SimpleNamespace(quote_name=connection.ops.quote_name, execute=cursor.execute)
        migration.entry_counts_backfill(django_apps, editor)

    counts = {(s.beneficiary, s.status): s.entry_count for s in Settlement.objects.all()}
    assert counts == {
        ("guide", "settled"): 2,
        ("store", "settled"): 2,
        ("guide", "open"): 0,
        ("store", "open"): 0,
    }
    assert CommissionEntry.objects.filter(settlement__status="open").count() == 2
    assert_ledger_clean()

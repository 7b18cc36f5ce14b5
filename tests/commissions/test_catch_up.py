"""Entries whose task was lost are written by the next settlement run."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.commissions import services
from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.services.entries import ENTRY_CATCH_UP_DAYS
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import BrandFactory, GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAID_AT = dt.datetime(2026, 3, 10, 18, 30, tzinfo=SHANGHAI)
DAY = PAID_AT.date()


@pytest.fixture
def lost_tasks(django_capture_on_commit_callbacks):
    """Accept orders and refunds but drop the tasks they queue (a broker that lost them)."""

    def ingest(**fields):
        with django_capture_on_commit_callbacks(execute=False):
            return services.order_ingest(**fields)[0]

    def refund(**fields):
        with django_capture_on_commit_callbacks(execute=False):
            return services.refund_create(**fields)[0]

    return ingest, refund


def test_settlement_run_writes_and_settles_entries_whose_task_was_lost(
    brand, store, lost_tasks, django_capture_on_commit_callbacks
):
    ingest, refund = lost_tasks
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    guide = GuideFactory(store=store)
    # Given an order whose entry task was lost
    lost = ingest(order_no="LOST", brand=brand, store=store, guide=guide,
                  amount=Decimal("100.00"), paid_at=PAID_AT)  # fmt: skip
    # And an order written normally whose refund's task was lost
    with django_capture_on_commit_callbacks(execute=True):
        kept, _created = services.order_ingest(
            order_no="KEPT", brand=brand, store=store, guide=guide, amount=Decimal("50.00"),
            paid_at=PAID_AT,
        )  # fmt: skip
    refund(order=kept, refund_no="KEPT-R", amount=Decimal("50.00"), refunded_at=PAID_AT)
    assert not CommissionEntry.objects.filter(order=lost).exists()
    assert not CommissionEntry.objects.filter(refund__isnull=False).exists()

    # When the nightly run settles the day
    result = services.settlement_run(run_date=DAY + dt.timedelta(days=1))

    # Then it first wrote what was missing, and settled it all
    assert result.entry_count == 6
    assert dict(Settlement.objects.values_list("beneficiary", "total")) == {
        "guide": Decimal("3.00"),
        "store": Decimal("5.00"),
    }
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()


def test_catch_up_leaves_brands_without_a_plan_and_old_orders_alone(brand, store, lost_tasks):
    ingest, _refund = lost_tasks
    CommissionPlanFactory(brand=brand)
    planless = BrandFactory(code="BOR")
    other_store = StoreFactory(code="BJ01", brands=[planless])
    old = PAID_AT - dt.timedelta(days=ENTRY_CATCH_UP_DAYS + 1)
    ingest(order_no="OLD", brand=brand, store=store, amount=Decimal("10.00"), paid_at=old)
    ingest(order_no="NOPLAN", brand=planless, store=other_store, amount=Decimal("10.00"),
           paid_at=PAID_AT)  # fmt: skip
    ingest(order_no="NEW", brand=brand, store=store, amount=Decimal("10.00"), paid_at=PAID_AT)

    written = services.commission_entries_catch_up(
        since=DAY - dt.timedelta(days=ENTRY_CATCH_UP_DAYS), until=DAY
    )

    assert written == 1
    assert set(CommissionEntry.objects.values_list("order__order_no", flat=True)) == {"NEW"}
    # And nothing is left to do the second time
    assert services.commission_entries_catch_up(since=DAY, until=DAY) == 0


def test_a_dry_run_writes_no_missing_entries(brand, store, lost_tasks):
    ingest, _refund = lost_tasks
    CommissionPlanFactory(brand=brand)
    ingest(order_no="LOST", brand=brand, store=store, amount=Decimal("10.00"), paid_at=PAID_AT)

    result = services.settlement_run(run_date=DAY + dt.timedelta(days=1), dry_run=True)

    assert result.entry_count == 1
    assert not CommissionEntry.objects.exists()

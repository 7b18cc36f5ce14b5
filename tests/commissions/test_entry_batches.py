"""A new order's worker writes and settles later orders still waiting, in one batch."""

import datetime as dt
from decimal import Decimal

import pytest

from apps.commissions import services, tasks
from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.selectors import LedgerScope, ledger_verify
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import GuideFactory

pytestmark = pytest.mark.django_db

PAID_AT = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
NO_GRACE = dt.timedelta(0)


@pytest.fixture
def t0_orders(django_capture_on_commit_callbacks, brand, store):
    """Three T+0 orders whose entry messages are queued but not yet run; returns (orders, ids)."""
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    guide = GuideFactory(store=store)
    orders = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for number, amount in enumerate(("100.00", "33.33", "250.00"), start=1):
            order, _created = services.order_ingest(
                order_no=f"B-{number}", brand=brand, store=store, guide=guide,
                amount=Decimal(amount), paid_at=PAID_AT,
            )  # fmt: skip
            orders.append(order)
    assert len(callbacks) == 3  # one message per order, queued on commit
    return orders


def test_the_first_message_writes_and_settles_every_waiting_order(t0_orders):
    first, *later = t0_orders

    written = tasks.order_entries_write_task(first.pk)

    # Then every order has its two entries, each in its own order's settlements
    assert written == 6
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    refs = sorted(Settlement.objects.values_list("source_ref", "beneficiary", "total"))
    assert refs == [
        ("order:B-1", "guide", Decimal("3.00")), ("order:B-1", "store", Decimal("5.00")),
        ("order:B-2", "guide", Decimal("1.00")), ("order:B-2", "store", Decimal("1.67")),
        ("order:B-3", "guide", Decimal("7.50")), ("order:B-3", "store", Decimal("12.50")),
    ]  # fmt: skip
    assert set(Settlement.objects.values_list("status", flat=True)) == {"settled"}
    # And the later orders' own messages find nothing left to do
    assert [tasks.order_entries_write_task(order.pk) for order in later] == [0, 0]
    assert Settlement.objects.count() == 6
    assert ledger_verify(scope=LedgerScope(), grace=NO_GRACE).ok


def test_a_batch_settles_what_one_message_per_order_settles(t0_orders):
    # Given the same orders settled one by one, the way the single path does
    for order in t0_orders:
        services.commission_entries_write(order_id=order.pk)
        services.settlement_settle_t0(order_id=order.pk)
    one_by_one = sorted(
        Settlement.objects.values_list(
            "source_ref", "beneficiary", "guide_id", "store_id", "mode", "period_start",
            "period_end", "entries_total", "total", "status",
        )
    )  # fmt: skip
    CommissionEntry.objects.all().delete()
    Settlement.objects.all().delete()

    # When the first order's worker settles them as one batch
    services.order_entries_write(order_id=t0_orders[0].pk)

    # Then the settlements are the same
    batched = sorted(
        Settlement.objects.values_list(
            "source_ref", "beneficiary", "guide_id", "store_id", "mode", "period_start",
            "period_end", "entries_total", "total", "status",
        )
    )  # fmt: skip
    assert batched == one_by_one


def test_an_order_refunded_before_its_worker_ran_is_settled_with_its_clawback(
    t0_orders, django_capture_on_commit_callbacks
):
    first, refunded, _last = t0_orders
    with django_capture_on_commit_callbacks(execute=False):
        services.refund_create(
            order=refunded, refund_no="B-2-R", amount=Decimal("33.33"),
            refunded_at=PAID_AT + dt.timedelta(hours=1),
        )  # fmt: skip

    tasks.order_entries_write_task(first.pk)

    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    refund_total = sum(
        Settlement.objects.filter(source_ref="refund:B-2-R").values_list("total", flat=True)
    )
    assert refund_total == Decimal("-2.67")
    assert tasks.order_entries_write_task(refunded.pk) == 0
    assert ledger_verify(scope=LedgerScope(), grace=NO_GRACE).ok


def test_a_refund_of_a_settled_order_goes_the_single_way(
    t0_orders, django_capture_on_commit_callbacks
):
    order = t0_orders[0]
    tasks.order_entries_write_task(order.pk)

    with django_capture_on_commit_callbacks(execute=True):
        services.refund_create(
            order=order, refund_no="B-1-R", amount=Decimal("40.00"),
            refunded_at=PAID_AT + dt.timedelta(hours=2),
        )  # fmt: skip

    assert Settlement.objects.filter(source_ref="refund:B-1-R").count() == 2
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()


def test_a_batch_of_refunded_orders_only_settles_each_the_single_way(
    t0_orders, django_capture_on_commit_callbacks
):
    # Given every order of the batch refunded before its worker ran
    with django_capture_on_commit_callbacks(execute=False):
        for order in t0_orders:
            services.refund_create(
                order=order, refund_no=f"{order.order_no}-R", amount=Decimal("1.00"),
                refunded_at=PAID_AT + dt.timedelta(hours=1),
            )  # fmt: skip

    tasks.order_entries_write_task(t0_orders[0].pk)

    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    assert ledger_verify(scope=LedgerScope(), grace=NO_GRACE).ok

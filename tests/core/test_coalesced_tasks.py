"""Coalesced runs (TASK_COALESCING): one queued run serves the items committed before it."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache

from apps.commissions import services as commission_services
from apps.commissions.models import CommissionEntry, Settlement
from apps.commissions.services import new_orders
from apps.commissions.services.orders import ORDERS_WAITING_KEY
from apps.commissions.tasks import orders_waiting_write_task
from apps.customers.models import Membership
from apps.customers.services import member_join
from apps.customers.tasks import memberships_assign_waiting_task
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import BrandFactory, GuideFactory, StoreFactory

pytestmark = [pytest.mark.django_db]

PAID_AT = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _coalescing(settings):
    # The test cache lives in this one process, so every "process" shares it.
    settings.TASK_COALESCING = True


def _commit_and_count_runs(task, callbacks_fixture, write):
    """Run ``write`` and its on-commit callbacks; return how many runs of ``task`` they queued."""
    with mock.patch.object(task, "apply_async") as queued, callbacks_fixture(execute=True):
        result = write()
    return queued.call_count, queued.call_args_list, result


def test_sign_ups_queue_one_run_which_assigns_them_all(django_capture_on_commit_callbacks):
    brand = BrandFactory(code="AUR")
    store = StoreFactory(code="SH", brands=[brand], latitude=31.23, longitude=121.47)
    GuideFactory(store=store)

    def join_three():
        return [
            member_join(brand=brand, phone=f"1380000000{n}", source="mini_program",
                        latitude=31.231, longitude=121.471).membership
            for n in range(3)
        ]  # fmt: skip

    runs, _calls, members = _commit_and_count_runs(
        memberships_assign_waiting_task, django_capture_on_commit_callbacks, join_three
    )
    assert runs == 1

    memberships_assign_waiting_task.apply()

    statuses = Membership.objects.filter(pk__in=[m.pk for m in members])
    assert set(statuses.values_list("assignment_status", "store")) == {("assigned", store.pk)}
    # The run cleared its key: the next sign-up queues the next run
    runs, _calls, _member = _commit_and_count_runs(
        memberships_assign_waiting_task,
        django_capture_on_commit_callbacks,
        lambda: member_join(brand=brand, phone="13800000009", source="mini_program"),
    )
    assert runs == 1


def test_orders_queue_one_run_which_writes_and_settles_them_all(
    brand, store, django_capture_on_commit_callbacks
):
    CommissionPlanFactory(brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"))
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    guide = GuideFactory(store=store)
    planless = BrandFactory(code="NOP")  # its orders earn nothing: never entries
    store.brands.add(planless)

    def ingest_four():
        return [
            commission_services.order_ingest(
                order_no=f"C-{n}", brand=planless if n == 0 else brand, store=store,
                guide=guide, amount=Decimal("100.00"), paid_at=PAID_AT,
            )[0]
            for n in range(4)
        ]  # fmt: skip

    runs, calls, orders = _commit_and_count_runs(
        orders_waiting_write_task, django_capture_on_commit_callbacks, ingest_four
    )
    assert runs == 1
    assert calls[0].kwargs["args"] == (orders[0].pk,)

    orders_waiting_write_task.apply(args=[orders[0].pk])

    assert CommissionEntry.objects.count() == 6  # guide and store of three orders
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    assert Settlement.objects.filter(status="settled").count() == 6
    # Running it again writes nothing, and the plan-less order does not hold it up
    assert orders_waiting_write_task.apply(args=[orders[0].pk]).result == 0


def test_an_order_numbered_before_the_one_that_queued_the_run_is_not_missed(
    brand, store, django_capture_on_commit_callbacks
):
    CommissionPlanFactory(brand=brand)
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    with django_capture_on_commit_callbacks(execute=False):
        earlier, _created = commission_services.order_ingest(
            order_no="EARLY", brand=brand, store=store, amount=Decimal("50.00"), paid_at=PAID_AT
        )
        later, _created = commission_services.order_ingest(
            order_no="LATE", brand=brand, store=store, amount=Decimal("60.00"), paid_at=PAID_AT
        )

    orders_waiting_write_task.apply(args=[later.pk])

    assert set(CommissionEntry.objects.values_list("order__order_no", flat=True)) == {
        "EARLY", "LATE"
    }  # fmt: skip


def test_a_run_looks_past_orders_that_have_their_entries_already(
    brand, store, django_capture_on_commit_callbacks, monkeypatch
):
    # Given orders looked at two ids at a time, and a run of orders whose
    # entries another worker wrote, then orders still waiting behind them
    monkeypatch.setattr(new_orders, "ENTRY_SCAN_ORDERS", 2)
    CommissionPlanFactory(brand=brand)
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    with django_capture_on_commit_callbacks(execute=False):
        orders = [
            commission_services.order_ingest(
                order_no=f"W-{n}", brand=brand, store=store, amount=Decimal("10.00"),
                paid_at=PAID_AT,
            )[0]
            for n in range(7)
        ]  # fmt: skip
    commission_services.commission_entries_write(order_ids=[order.pk for order in orders[:4]])

    # When one run starts at the first of them
    orders_waiting_write_task.apply(args=[orders[0].pk])

    # Then the waiting ones are written and settled too
    written = set(CommissionEntry.objects.values_list("order__order_no", flat=True))
    assert written == {f"W-{n}" for n in range(7)}
    waiting = CommissionEntry.objects.filter(order__in=orders[4:])
    assert waiting.count() == 3
    assert not waiting.filter(settlement__isnull=True).exists()


def test_the_orders_of_a_run_whose_message_was_lost_are_written_by_the_next(
    brand, store, django_capture_on_commit_callbacks, monkeypatch
):
    # Given no look-behind, a finished run, then a run whose message is lost
    monkeypatch.setattr(new_orders, "ENTRY_WAITING_LOOKBEHIND_IDS", 0)
    CommissionPlanFactory(brand=brand)
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)

    def ingest(order_no):
        lost_run = mock.patch.object(orders_waiting_write_task, "apply_async")
        with lost_run, django_capture_on_commit_callbacks(execute=True):
            order, _created = commission_services.order_ingest(
                order_no=order_no, brand=brand, store=store, amount=Decimal("10.00"),
                paid_at=PAID_AT,
            )  # fmt: skip
        return order

    first = ingest("FIRST")
    orders_waiting_write_task.apply(args=[first.pk])
    ingest("LOST-1")
    ingest("LOST-2")
    cache.delete(ORDERS_WAITING_KEY)  # as when its key expires
    last = ingest("NEXT")

    # When the next order's run goes
    orders_waiting_write_task.apply(args=[last.pk])

    # Then it wrote the lost run's orders too
    written = set(CommissionEntry.objects.values_list("order__order_no", flat=True))
    assert written == {"FIRST", "LOST-1", "LOST-2", "NEXT"}

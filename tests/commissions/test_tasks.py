import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections

from apps.commissions import services, tasks
from apps.commissions.models import CommissionEntry, Settlement, SettlementCutoff
from apps.commissions.services import settlements as settlement_services
from tests.commissions.conftest import requires_postgres
from tests.commissions.factories import (
    CommissionPlanFactory,
    OrderFactory,
    SettlementTermsFactory,
)
from tests.factories import GuideFactory
from tests.worker import broker_url_configured, running_worker, wait_for

DAY = dt.date(2026, 3, 10)
requires_broker = pytest.mark.skipif(
    not broker_url_configured(),
    reason="CELERY_BROKER_URL is not set: no broker to run a real worker against",
)


@pytest.mark.django_db
def test_entry_task_is_idempotent(brand, store):
    CommissionPlanFactory(brand=brand)
    order = OrderFactory(brand=brand, store=store)

    assert tasks.order_entries_write_task(order.pk) == 1
    assert tasks.order_entries_write_task(order.pk) == 0
    assert CommissionEntry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("message", [999_999, "12", None, 1.5, True])
def test_malformed_or_unknown_ids_are_logged_and_dropped(message, caplog):
    assert tasks.order_entries_write_task(message) == 0
    assert "dropping" in caplog.text


@pytest.mark.django_db
def test_malformed_settlement_date_is_dropped(caplog):
    assert tasks.settlement_run_nightly("yesterday") == 0
    assert "dropping" in caplog.text


def test_entry_task_retries_only_operational_errors_with_a_cap():
    task = tasks.order_entries_write_task
    assert task.autoretry_for == (OperationalError,)
    assert task.max_retries == 8
    assert task.retry_backoff


@pytest.mark.django_db
def test_nightly_and_monthly_tasks_run_the_service(brand, store):
    CommissionPlanFactory(brand=brand)
    OrderFactory(brand=brand, store=store)
    services.commission_entries_write(business_date=DAY)

    assert tasks.settlement_run_nightly("2026-03-11") == 1
    assert tasks.settlement_run_nightly("2026-03-11") == 0
    assert tasks.settlement_run_monthly("2026-04-01") == 0


@pytest.mark.django_db
def test_settle_command_dry_run_prints_and_writes_nothing(brand, store):
    from io import StringIO

    from django.core.management import call_command

    CommissionPlanFactory(brand=brand)
    OrderFactory(brand=brand, store=store)
    services.commission_entries_write(business_date=DAY)
    out = StringIO()

    call_command("settle", "--date", "2026-03-11", "--brand", "AUR", "--dry-run", stdout=out)

    assert "would settle 1 entries into 1 settlements, total 5.00" in out.getvalue()
    assert not Settlement.objects.exclude(status=Settlement.Status.OPEN).exists()
    call_command("settle", "--date", "2026-03-11", stdout=out)
    assert Settlement.objects.get().status == Settlement.Status.SETTLED


@pytest.mark.postgres
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_settlement_runs_at_the_same_moment_settle_each_entry_once(brand, store):
    # Given many unsettled entries for several beneficiaries
    CommissionPlanFactory(brand=brand)
    guides = [GuideFactory(store=store) for _ in range(5)]
    for n in range(200):
        OrderFactory(brand=brand, store=store, attributed_guide=guides[n % 5],
                     amount=Decimal("10.00") + n)  # fmt: skip
    services.commission_entries_write(business_date=DAY)
    barrier = threading.Barrier(4)
    errors = []

    def settle():
        try:
            barrier.wait()
            services.settlement_run(run_date=DAY + dt.timedelta(days=1))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    # When four runs start at once
    threads = [threading.Thread(target=settle) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then there is one set of settlements and every entry is in exactly one
    assert errors == []
    assert Settlement.objects.count() == 6  # five guides and the store
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()
    for settlement in Settlement.objects.all():
        assert settlement.total == sum(e.amount for e in settlement.entries.all())


@pytest.mark.postgres
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_that_dies_midway_leaves_nothing_and_the_next_finishes(brand, store, monkeypatch):
    CommissionPlanFactory(brand=brand)
    OrderFactory(brand=brand, store=store)
    services.commission_entries_write(business_date=DAY)

    def crash(**_kwargs):
        raise OperationalError("worker killed")

    monkeypatch.setattr(settlement_services, "_carry_forward_link", crash)
    with pytest.raises(OperationalError):
        services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    assert not Settlement.objects.exclude(status=Settlement.Status.OPEN).exists()
    assert CommissionEntry.objects.get().settlement.status == Settlement.Status.OPEN
    assert SettlementCutoff.objects.get(brand=brand, mode="T1").closed_through is None

    monkeypatch.undo()
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    settled = Settlement.objects.get()
    assert (settled.status, settled.total) == (Settlement.Status.SETTLED, Decimal("5.00"))
    assert connection.vendor == "postgresql"


@pytest.mark.broker
@requires_broker
@pytest.mark.django_db(transaction=True)
def test_t0_order_through_a_real_worker_is_settled_at_once(brand, store):
    CommissionPlanFactory(brand=brand)
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    guide = GuideFactory(store=store)
    order, _created = services.order_ingest(
        order_no="T0-1", brand=brand, store=store, guide=guide, amount=Decimal("200.00"),
        paid_at=dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC),
    )  # fmt: skip

    with running_worker() as queue:
        tasks.order_entries_write_task.apply_async(args=[order.pk], queue=queue)
        wait_for(lambda: Settlement.objects.count() == 2)

    totals = dict(Settlement.objects.values_list("beneficiary", "total"))
    assert totals == {"guide": Decimal("6.00"), "store": Decimal("10.00")}
    assert not CommissionEntry.objects.filter(settlement__isnull=True).exists()


@pytest.mark.postgres
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_an_order_written_during_a_run_waits_and_goes_in_the_next_period(brand, store, monkeypatch):
    # Given a day's order and a run that is midway through closing that day
    CommissionPlanFactory(brand=brand)
    OrderFactory(brand=brand, store=store, order_no="ON-TIME")
    services.commission_entries_write(business_date=DAY)
    run_paused, resume_run = threading.Event(), threading.Event()
    carry_forward = settlement_services._carry_forward_link

    def pause_then_carry_forward(**kwargs):
        run_paused.set()
        resume_run.wait(timeout=10)
        carry_forward(**kwargs)

    monkeypatch.setattr(settlement_services, "_carry_forward_link", pause_then_carry_forward)

    def in_thread(work):
        def target():
            try:
                work()
            finally:
                connections.close_all()

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    run = in_thread(lambda: services.settlement_run(run_date=DAY + dt.timedelta(days=1)))
    assert run_paused.wait(timeout=10)

    # When an order of that day arrives meanwhile (after the run's catch-up of lost entries)
    late = OrderFactory(brand=brand, store=store, order_no="LATE")
    writer = in_thread(lambda: services.commission_entries_write(order_id=late.pk))
    writer.join(timeout=1)
    blocked_while_the_run_held_the_cutoff = writer.is_alive()
    resume_run.set()
    run.join(timeout=10)
    writer.join(timeout=10)

    # Then the run settled the day without it, and it waits for the next period
    assert blocked_while_the_run_held_the_cutoff
    settled = Settlement.objects.get(status=Settlement.Status.SETTLED)
    assert list(settled.entries.values_list("order__order_no", flat=True)) == ["ON-TIME"]
    waiting = CommissionEntry.objects.get(order=late).settlement
    assert waiting.status == Settlement.Status.OPEN
    assert waiting.period_end == DAY + dt.timedelta(days=2)


def test_a_message_queued_under_a_task_name_before_the_rename_still_runs(brand, store):
    from config.celery_app import app

    CommissionPlanFactory(brand=brand)
    order = OrderFactory(brand=brand, store=store)

    written = app.tasks["apps.commissions.tasks.commission_entries_write"].apply(args=[order.pk])

    assert written.result == 1
    assert CommissionEntry.objects.filter(order=order).count() == 1

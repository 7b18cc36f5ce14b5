"""The month close: bonus entries once per beneficiary and month, refunds after it as revisions."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.commissions.models import CommissionEntry
from apps.commissions.selectors import ledger_verify
from apps.incentives import services
from apps.incentives.models import BonusAward, PointsAccount
from tests.commissions.conftest import requires_postgres
from tests.incentives.conftest import MARCH, refund, sale

CLOSE_DAY = dt.date(2026, 4, 8)  # March 31 + 7 days' hold + 1


def test_close_writes_one_bonus_entry_per_beneficiary_with_frozen_inputs(month_setup):
    given = month_setup
    sale(guide=given.first, plan=given.plan, amount=Decimal("13000.00"))
    sale(guide=given.second, plan=given.plan, amount=Decimal("9000.00"))

    result = services.bonus_month_close(brand_id=given.plan.brand_id, month=MARCH,
                                        run_date=CLOSE_DAY)  # fmt: skip

    assert result.closed_now and result.awards == 2 and result.entries == 1
    award = BonusAward.objects.get(guide=given.first)
    # 1 % of 2,000 (100–120 %) + 2 % of 1,000 (above 120 %)
    assert award.bonus == award.amount == Decimal("40.00")
    assert (award.net_sales, award.target_amount, award.brackets_reached) == (
        Decimal("13000.00"), Decimal("10000.00"), 2,
    )  # fmt: skip
    assert award.entry.kind == "bonus" and award.entry.amount == Decimal("40.00")
    assert award.entry.settlement is not None  # the open T+1 period of the close day
    assert BonusAward.objects.get(guide=given.second).entry is None  # below target: 0, no entry
    assert PointsAccount.objects.get(guide=given.first).balance == 130
    assert ledger_verify().ok


def test_running_the_close_again_writes_nothing(month_setup):
    given = month_setup
    sale(guide=given.first, plan=given.plan, amount=Decimal("13000.00"))
    services.bonus_month_close(brand_id=given.plan.brand_id, month=MARCH, run_date=CLOSE_DAY)

    again = services.bonus_month_close(
        brand_id=given.plan.brand_id, month=MARCH, run_date=CLOSE_DAY
    )

    assert not again.closed_now and again.awards == 0 and again.point_movements == 0
    assert CommissionEntry.objects.filter(kind="bonus").count() == 1


def test_a_refund_after_the_close_is_a_bonus_adjustment_in_the_next_open_period(month_setup):
    given = month_setup
    order = sale(guide=given.first, plan=given.plan, amount=Decimal("13000.00"))
    services.bonus_month_close(brand_id=given.plan.brand_id, month=MARCH, run_date=CLOSE_DAY)
    first_entry = BonusAward.objects.get(guide=given.first).entry
    first_entry_amount = first_entry.amount

    refund(order=order, amount=Decimal("2000.00"), day=dt.date(2026, 4, 20))
    result = services.bonus_month_close(
        brand_id=given.plan.brand_id, month=MARCH, run_date=dt.date(2026, 4, 21)
    )

    assert result.awards == 1
    revised = BonusAward.objects.get(guide=given.first, revision=1)
    # 11,000 is 110 %: 1 % of 1,000 = 10.00, so 30.00 comes back
    assert revised.net_sales == Decimal("11000.00") and revised.bonus == Decimal("10.00")
    assert revised.amount == Decimal("-30.00")
    assert revised.entry.amount == Decimal("-30.00")
    assert revised.entry.business_date == dt.date(2026, 4, 21)
    first_entry.refresh_from_db()
    assert first_entry.amount == first_entry_amount  # never edited
    assert PointsAccount.objects.get(guide=given.first).balance == 110
    assert ledger_verify().ok


def test_the_month_waits_for_the_hold(month_setup):
    brand_id = month_setup.plan.brand_id
    assert services.bonus_months_due(run_date=dt.date(2026, 4, 7)) == []
    assert services.bonus_months_due(run_date=CLOSE_DAY) == [(brand_id, MARCH)]


def test_verify_ledger_catches_a_bonus_edited_away_from_its_inputs(month_setup):
    given = month_setup
    sale(guide=given.first, plan=given.plan, amount=Decimal("13000.00"))
    services.bonus_month_close(brand_id=given.plan.brand_id, month=MARCH, run_date=CLOSE_DAY)
    BonusAward.objects.filter(guide=given.first).update(net_sales=Decimal("12000.00"))
    PointsAccount.objects.filter(guide=given.first).update(balance=5)

    codes = {breach.code for breach in ledger_verify().breaches}

    assert {"bonus_inputs", "points_balance"} <= codes


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_write_each_bonus_once(month_setup):
    given = month_setup
    sale(guide=given.first, plan=given.plan, amount=Decimal("13000.00"))
    results, errors = [], []
    barrier = threading.Barrier(3)

    def close():
        try:
            barrier.wait()
            results.append(
                services.bonus_month_close(
                    brand_id=given.plan.brand_id, month=MARCH, run_date=CLOSE_DAY
                )
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=close) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(r.closed_now for r in results) == [False, False, True]
    assert BonusAward.objects.count() == 2
    assert CommissionEntry.objects.filter(kind="bonus").count() == 1
    assert ledger_verify().ok

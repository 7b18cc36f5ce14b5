"""Points expiry: explicit movements, first in first out, never below zero, each month once."""

import datetime as dt
import threading

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from apps.commissions.selectors import ledger_verify
from apps.core.queues import task_queue
from apps.core.schedules import PERIODIC_TASK_DEFAULTS
from apps.incentives import services, task_names
from apps.incentives.models import IncentivePolicy, PointsAccount, PointsMovement
from tests.commissions.conftest import requires_postgres
from tests.conftest import token_client
from tests.factories import GuideFactory

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def _earn(account, month, points, *, kind="sales"):
    PointsMovement.objects.create(
        account=account, kind=kind, points=points, month=month, reason="earned",
        reference=f"earn:{account.pk}:{month}:{kind}:{points}", created_at="2026-04-01T00:00:00Z",
    )  # fmt: skip
    PointsAccount.objects.filter(pk=account.pk).update(balance=account.balance + points)
    account.refresh_from_db()


def _redeem(account, points, hq, reference):
    services.points_redeem(
        guide=account.guide, brand=account.brand, points=points, reward="gift", reason="gift",
        reference=reference, actor=hq,
    )  # fmt: skip
    account.refresh_from_db()


@pytest.fixture
def expiring(brand, store, hq):
    """A guide who earned 100 points for January and 50 for February, and redeemed 120."""
    IncentivePolicy.objects.create(brand=brand, points_expire_months=1)
    account = PointsAccount.objects.create(guide=GuideFactory(store=store), brand=brand)
    _earn(account, JAN, 100)
    _earn(account, FEB, 50)
    _redeem(account, 120, hq, "R-1")
    return account


def test_plan_spends_the_oldest_points_first():
    earned = {JAN: 100, FEB: 50}

    assert services.expiry_plan(earned=earned, spent=30, balance=120, last_month=JAN) == {JAN: 70}
    # 120 spent: January's 100 all gone, 20 of February's
    assert services.expiry_plan(earned=earned, spent=120, balance=30, last_month=JAN) == {}
    assert services.expiry_plan(earned=earned, spent=120, balance=30, last_month=FEB) == {FEB: 30}


@given(
    earned=st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=6),
    spent=st.integers(min_value=0, max_value=3000),
    months_due=st.integers(min_value=0, max_value=6),
)
def test_plan_never_takes_more_than_the_balance_and_a_second_run_takes_nothing(
    earned, spent, months_due
):
    months = {dt.date(2025, m + 1, 1): points for m, points in enumerate(earned)}
    spent = min(spent, sum(earned))  # a ledger never spends what it did not earn
    balance = sum(earned) - spent
    last = dt.date(2025, months_due, 1) if months_due else dt.date(2024, 12, 1)

    plan = services.expiry_plan(earned=months, spent=spent, balance=balance, last_month=last)

    assert all(points > 0 and month <= last for month, points in plan.items())
    taken = sum(plan.values())
    assert taken <= balance
    due = sum(points for month, points in months.items() if month <= last)
    assert taken == max(0, due - spent)
    again = services.expiry_plan(
        earned=months, spent=spent + taken, balance=balance - taken, last_month=last
    )
    assert again == {}


def test_expiry_writes_movements_for_what_is_left_first_in_first_out(expiring):
    account = expiring

    # 5 March: January (due 1 March) was spent by the redemption first: nothing expires.
    assert (
        services.points_expire(brand_id=account.brand_id, run_date=dt.date(2026, 3, 5)).movements
        == 0
    )
    # 2 April: what is left of February expires, the balance goes to zero, not below.
    result = services.points_expire(brand_id=account.brand_id, run_date=dt.date(2026, 4, 2))

    assert (result.movements, result.points) == (1, 30)
    movement = PointsMovement.objects.get(kind="expired")
    assert (movement.points, movement.month, movement.actor) == (-30, FEB, None)
    assert "2026-02" in movement.reason
    account.refresh_from_db()
    assert account.balance == 0
    assert ledger_verify().ok


def test_a_repeated_run_writes_nothing_new(expiring):
    brand_id = expiring.brand_id
    services.points_expire(brand_id=brand_id, run_date=dt.date(2026, 4, 2))

    again = services.points_expire_run(run_date=dt.date(2026, 4, 3))

    assert [r.movements for r in again] == [0]
    assert PointsMovement.objects.filter(kind="expired").count() == 1
    expiring.refresh_from_db()
    assert expiring.balance == 0


def test_a_brand_without_expiry_keeps_its_points(brand, store):
    IncentivePolicy.objects.create(brand=brand)
    account = PointsAccount.objects.create(guide=GuideFactory(store=store), brand=brand)
    _earn(account, JAN, 100)

    assert services.points_expire_run(run_date=dt.date(2030, 1, 1)) == []
    account.refresh_from_db()
    assert account.balance == 100


def test_points_earned_later_expire_later(brand, store):
    IncentivePolicy.objects.create(brand=brand, points_expire_months=2)
    account = PointsAccount.objects.create(guide=GuideFactory(store=store), brand=brand)
    _earn(account, JAN, 100)
    _earn(account, MAR, 40)

    services.points_expire(brand_id=brand.pk, run_date=dt.date(2026, 4, 1))  # January's
    services.points_expire(brand_id=brand.pk, run_date=dt.date(2026, 5, 31))  # nothing more

    assert list(PointsMovement.objects.filter(kind="expired").values_list("month", "points")) == [
        (JAN, -100)
    ]
    account.refresh_from_db()
    assert account.balance == 40


def test_expiries_show_in_the_accounts_movements(expiring, hq):
    services.points_expire(brand_id=expiring.brand_id, run_date=dt.date(2026, 4, 2))

    response = token_client(hq).get(f"/api/v1/points/{expiring.pk}/movements/")

    assert response.status_code == 200
    newest = response.json()["results"][0]
    assert (newest["kind"], newest["points"]) == ("expired", -30)


def test_the_daily_job_has_a_queue_and_a_schedule():
    assert task_queue(task_names.POINTS_EXPIRE_RUN) == "settlement"
    assert [
        d.crontab for d in PERIODIC_TASK_DEFAULTS if d.task == task_names.POINTS_EXPIRE_RUN
    ] == [{"minute": "30", "hour": "4"}]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_expire_each_month_once(brand, store, hq):
    IncentivePolicy.objects.create(brand=brand, points_expire_months=1)
    accounts = []
    for _n in range(3):
        account = PointsAccount.objects.create(guide=GuideFactory(store=store), brand=brand)
        _earn(account, JAN, 100)
        _earn(account, FEB, 50)
        accounts.append(account)
    barrier = threading.Barrier(3)
    written = []

    def run():
        try:
            barrier.wait()
            written.append(
                services.points_expire(brand_id=brand.pk, run_date=dt.date(2026, 4, 2)).movements
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(written) == [0, 0, 6]  # January's and February's, per account, once
    assert PointsMovement.objects.filter(kind="expired").count() == 6
    assert set(PointsAccount.objects.values_list("balance", flat=True)) == {0}
    assert ledger_verify().ok

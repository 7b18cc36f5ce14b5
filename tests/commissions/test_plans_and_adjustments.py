"""History is appended: plans that priced entries are ended and succeeded; adjustments correct."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.commissions import services
from apps.commissions.models import (
    CommissionAdjustment,
    CommissionEntry,
    CommissionPlan,
    Settlement,
)
from apps.commissions.selectors import ledger_verify
from tests.commissions.factories import (
    CommissionPlanFactory,
    OrderFactory,
    SettlementTermsFactory,
)
from tests.conftest import token_client
from tests.factories import GuideFactory

pytestmark = pytest.mark.django_db

PLANS_URL = "/api/v1/commission-plans/"
ADJUSTMENTS_URL = "/api/v1/commission-adjustments/"
DAY = dt.date(2026, 3, 10)


@pytest.fixture
def priced_plan(brand, store):
    plan = CommissionPlanFactory(brand=brand, valid_from=dt.date(2026, 1, 1))
    order = OrderFactory(brand=brand, store=store, order_no="PRICED-1")
    services.commission_entries_write(order_id=order.pk)
    return plan


def assert_ledger_clean():
    assert ledger_verify(grace=dt.timedelta(0)).breaches == []


# Plans -----------------------------------------------------------------------------------------


def test_rates_of_a_plan_with_entries_cannot_change_over_the_api(hq_client, priced_plan):
    response = hq_client.patch(
        f"{PLANS_URL}{priced_plan.pk}/",
        {"guide_rate": "9.00", "valid_from": "2026-02-01"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.data) == {"guide_rate", "valid_from"}
    priced_plan.refresh_from_db()
    assert priced_plan.guide_rate == Decimal("3.00")
    assert_ledger_clean()


def test_a_plan_with_entries_is_ended_and_succeeded(hq_client, priced_plan, brand, store):
    response = hq_client.post(
        f"{PLANS_URL}{priced_plan.pk}/successor/",
        {"valid_from": "2026-04-01", "guide_rate": "4.00", "store_rate": "6.00"},
        format="json",
    )

    assert response.status_code == 201, response.data
    priced_plan.refresh_from_db()
    assert priced_plan.valid_to == dt.date(2026, 3, 31)
    successor = CommissionPlan.objects.get(pk=response.data["id"])
    assert (successor.valid_from, successor.guide_rate) == (dt.date(2026, 4, 1), Decimal("4.00"))
    assert [h.history_type for h in priced_plan.history.order_by("history_date")] == ["+", "~"]
    later = OrderFactory(
        brand=brand, store=store, paid_at=dt.datetime(2026, 4, 2, 4, tzinfo=dt.UTC)
    )
    services.commission_entries_write(order_id=later.pk)
    assert CommissionEntry.objects.get(order=later).plan == successor
    assert_ledger_clean()


def test_a_plan_is_not_ended_before_its_last_entry(hq_client, priced_plan):
    response = hq_client.patch(
        f"{PLANS_URL}{priced_plan.pk}/", {"valid_to": "2026-03-01"}, format="json"
    )

    assert response.status_code == 400
    assert "valid_to" in response.data


def test_a_plan_without_entries_may_still_be_corrected(hq_client, brand):
    plan = CommissionPlanFactory(brand=brand, valid_from=dt.date(2030, 1, 1))

    response = hq_client.patch(f"{PLANS_URL}{plan.pk}/", {"guide_rate": "2.50"}, format="json")

    assert response.status_code == 200, response.data
    plan.refresh_from_db()
    assert plan.guide_rate == Decimal("2.50")


@pytest.mark.parametrize(("guide_rate", "store_rate", "status"), [
    ("60.00", "40.01", 400), ("100.00", "0.01", 400), ("60.00", "40.00", 201),
])  # fmt: skip
def test_a_plan_paying_more_than_the_sale_is_refused(
    hq_client, brand, guide_rate, store_rate, status
):
    response = hq_client.post(
        PLANS_URL,
        {"brand": "AUR", "guide_rate": guide_rate, "store_rate": store_rate,
         "valid_from": "2026-01-01"},
        format="json",
    )  # fmt: skip

    assert response.status_code == status, response.data
    if status == 400:
        assert set(response.data) == {"guide_rate", "store_rate"}


def test_the_database_refuses_a_plan_paying_more_than_the_sale(brand):
    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionPlanFactory(brand=brand, guide_rate=Decimal("50.01"), store_rate=Decimal(50))


# Adjustments -----------------------------------------------------------------------------------


@pytest.fixture
def guide(store):
    return GuideFactory(employee_no="E-ADJ", store=store)


def adjustment_body(**overrides):
    return {
        "reference": "ADJ-2026-0001", "brand": "AUR", "beneficiary": "guide", "guide": "E-ADJ",
        "amount": "-12.30", "reason": "Order keyed to the wrong guide",
        **overrides,
    }  # fmt: skip


def test_hq_posts_an_adjustment_once(hq_client, guide, store):
    first = hq_client.post(ADJUSTMENTS_URL, adjustment_body(), format="json")
    again = hq_client.post(ADJUSTMENTS_URL, adjustment_body(), format="json")
    changed = hq_client.post(ADJUSTMENTS_URL, adjustment_body(amount="-12.31"), format="json")

    assert (first.status_code, again.status_code, changed.status_code) == (201, 200, 409)
    assert first.data["actor"] == "hq-ops"
    entry = CommissionEntry.objects.get()
    assert (entry.kind, entry.beneficiary, entry.guide, entry.store, entry.amount) == (
        "adjustment", "guide", guide, store, Decimal("-12.30"),
    )  # fmt: skip
    assert entry.order_id is None and entry.plan_id is None
    assert first.data["entry"] == entry.pk
    assert_ledger_clean()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"guide": None}, "guide"),
        ({"beneficiary": "store", "guide": None}, "store"),
        ({"amount": "0.00"}, "amount"),
        ({"reason": "   "}, "reason"),
        ({"reference": "ADJ/1"}, "reference"),
        ({"order": "NO-SUCH-ORDER"}, "order"),
    ],
)
def test_bad_adjustments_are_a_400_naming_the_field(hq_client, guide, overrides, field):
    response = hq_client.post(ADJUSTMENTS_URL, adjustment_body(**overrides), format="json")

    assert response.status_code == 400, response.data
    assert field in response.data
    assert not CommissionAdjustment.objects.exists()


def test_only_hq_adjusts(integration_client, guide, org):
    assert integration_client.post(
        ADJUSTMENTS_URL, adjustment_body(), format="json"
    ).status_code == (403)
    manager = token_client(org.users["manager_sh01"])
    assert manager.post(ADJUSTMENTS_URL, adjustment_body(), format="json").status_code == 403


def test_a_t1_adjustment_is_settled_by_the_nightly_run_with_the_day(hq_client, guide, brand, store):
    today = timezone.localdate()
    hq_client.post(ADJUSTMENTS_URL, adjustment_body(amount="20.00"), format="json")
    entry = CommissionEntry.objects.get()
    assert entry.settlement.status == Settlement.Status.OPEN
    assert entry.settlement.period_end == today + dt.timedelta(days=1)

    services.settlement_run(run_date=today + dt.timedelta(days=1), modes=["T1"])

    entry.refresh_from_db()
    assert (entry.settlement.status, entry.settlement.total) == ("settled", Decimal("20.00"))
    assert_ledger_clean()


def test_a_t0_store_adjustment_is_settled_at_once(hq_client, brand, store):
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    order = OrderFactory(brand=brand, store=store, order_no="POS-9")

    response = hq_client.post(
        ADJUSTMENTS_URL,
        adjustment_body(beneficiary="store", guide=None, store="SH01", order="POS-9",
                        amount="5.00"),
        format="json",
    )  # fmt: skip

    assert response.status_code == 201, response.data
    entry = CommissionEntry.objects.get(adjustment__reference="ADJ-2026-0001")
    assert entry.settlement.status == Settlement.Status.SETTLED
    assert entry.settlement.source_ref == "adjustment:ADJ-2026-0001"
    assert CommissionAdjustment.objects.get().order == order
    assert_ledger_clean()


def test_the_guide_sees_the_adjustment_on_their_statement(hq_client, org):
    guide = org.guides["G-SH01"]
    hq_client.post(
        ADJUSTMENTS_URL, adjustment_body(guide=guide.employee_no, amount="8.00"), format="json"
    )

    statement = token_client(org.users["guide_sh01"]).get("/api/v1/commission-entries/")

    rows = [
        (row["kind"], row["amount"], row["adjustment_reason"]) for row in statement.data["results"]
    ]
    assert rows == [("adjustment", "8.00", "Order keyed to the wrong guide")]


def test_verify_ledger_notices_an_adjustment_entry_that_was_edited(hq_client, guide):
    hq_client.post(ADJUSTMENTS_URL, adjustment_body(), format="json")
    CommissionEntry.objects.update(amount=Decimal("-99.00"))

    report = ledger_verify()

    assert [breach.code for breach in report.breaches] == ["adjustment"]


def test_order_and_refund_shares_stay_exactly_once_beside_adjustments(brand, store, guide):
    CommissionPlanFactory(brand=brand)
    order = OrderFactory(brand=brand, store=store, attributed_guide=guide)
    services.commission_entries_write(order_id=order.pk)
    late = CommissionEntry.objects.get(order=order, beneficiary="guide")

    with pytest.raises(IntegrityError), transaction.atomic():
        CommissionEntry.objects.create(
            **{f.attname: getattr(late, f.attname) for f in CommissionEntry._meta.concrete_fields
               if f.name != "id"} | {"kind": "bound_guide_late"},
        )  # fmt: skip

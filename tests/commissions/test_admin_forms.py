"""HQ walks every add and change form of the commissions admin: the ledger stays right.

Each form is posted with invalid data (the form answers with the error on
its field and nothing changes) and with valid data (saved through the same
service as the API); ``verify_ledger`` is clean after each.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.commissions import services
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionAdjustment,
    CommissionEntry,
    CommissionPlan,
    Settlement,
    SettlementTerms,
)
from apps.commissions.selectors import ledger_verify
from apps.core.roles import Role
from tests.commissions.factories import CommissionPlanFactory, OrderFactory
from tests.factories import GuideFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def hq(client):
    client.force_login(UserFactory(username="hq-walker", role=Role.HQ_OPS))
    return client


@pytest.fixture
def priced(brand, store):
    """A plan that priced a settled day's order of a guide."""
    plan = CommissionPlanFactory(brand=brand, valid_from=dt.date(2026, 1, 1))
    guide = GuideFactory(employee_no="E-ADMIN", store=store)
    order = OrderFactory(brand=brand, store=store, attributed_guide=guide, order_no="ADMIN-1")
    services.commission_entries_write(order_id=order.pk)
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    return plan, guide, order


def url(name: str, *args) -> str:
    return reverse(f"admin:commissions_{name}", args=args)


def assert_ledger_clean():
    report = ledger_verify(grace=dt.timedelta(0))
    assert report.breaches == []


def form_errors(response) -> dict:
    """The errors of the admin form a 200 answer shows, by field (None: the whole form)."""
    assert response.status_code == 200, response.status_code
    errors = response.context["adminform"].form.errors
    return {field: list(messages) for field, messages in errors.items()}


# Plans --------------------------------------------------------------------------------------


def plan_body(brand, **overrides):
    return {
        "brand": brand.pk, "store_kind": "", "store": "", "category": "",
        "guide_rate": "3.00", "store_rate": "5.00", "valid_from": "2027-01-01", "valid_to": "",
        **overrides,
    }  # fmt: skip


def test_plan_add_form(hq, priced, brand):
    assert hq.get(url("commissionplan_add")).status_code == 200

    too_much = form_errors(
        hq.post(url("commissionplan_add"), plan_body(brand, guide_rate="60", store_rate="41"))
    )
    overlapping = form_errors(
        hq.post(url("commissionplan_add"), plan_body(brand, valid_from="2026-06-01"))
    )
    assert set(too_much) == {"guide_rate", "store_rate"}
    assert set(overlapping) == {"valid_from"}
    assert CommissionPlan.objects.count() == 1

    # A plan added from the future's start is a successor of nothing that overlaps? No:
    # the priced plan is open-ended, so end it first, then add.
    services.commission_plan_update(plan=priced[0], valid_to=dt.date(2026, 12, 31))
    response = hq.post(url("commissionplan_add"), plan_body(brand, guide_rate="4.00"))
    assert response.status_code == 302
    assert CommissionPlan.objects.get(valid_from=dt.date(2027, 1, 1)).specificity == 1
    assert_ledger_clean()


def test_a_priced_plan_shows_its_rates_read_only_and_why(hq, priced, brand):
    plan = priced[0]

    page = hq.get(url("commissionplan_change", plan.pk))

    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "guide_rate" not in form.fields and "valid_from" not in form.fields
    assert "valid_to" in form.fields
    assert "end it (valid to) and add a successor" in page.content.decode()


def test_a_priced_plans_rates_cannot_be_changed_in_the_admin(hq, priced, brand):
    plan = priced[0]

    response = hq.post(
        url("commissionplan_change", plan.pk),
        {"guide_rate": "9.00", "store_rate": "9.00", "valid_to": ""},
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.guide_rate, plan.store_rate) == (Decimal("3.00"), Decimal("5.00"))
    assert_ledger_clean()


def test_a_priced_plan_ends_but_not_before_its_last_entry(hq, priced):
    plan = priced[0]
    change = url("commissionplan_change", plan.pk)

    too_early = form_errors(hq.post(change, {"valid_to": "2026-03-09"}))
    ended = hq.post(change, {"valid_to": "2026-03-31"})

    assert set(too_early) == {"valid_to"}
    assert ended.status_code == 302
    plan.refresh_from_db()
    assert plan.valid_to == dt.date(2026, 3, 31)
    assert plan.history.count() == 2  # created, then ended: with who did it
    assert plan.history.first().history_user.username == "hq-walker"
    assert_ledger_clean()


def test_an_unused_plan_is_edited_and_deleted_through_the_service(hq, brand, store):
    plan = CommissionPlanFactory(brand=brand, valid_from=dt.date(2030, 1, 1))
    change = url("commissionplan_change", plan.pk)
    body = plan_body(brand, valid_from="2030-01-01", guide_rate="4.50")

    assert hq.post(change, body).status_code == 302
    plan.refresh_from_db()
    assert plan.guide_rate == Decimal("4.50")
    assert set(form_errors(hq.post(change, {**body, "store_rate": "96.00"}))) == {
        "guide_rate", "store_rate",
    }  # fmt: skip

    assert hq.post(url("commissionplan_delete", plan.pk), {"post": "yes"}).status_code == 302
    assert not CommissionPlan.objects.filter(pk=plan.pk).exists()


def test_a_priced_plan_cannot_be_deleted(hq, priced):
    plan = priced[0]

    response = hq.post(url("commissionplan_delete", plan.pk), {"post": "yes"})

    assert response.status_code == 403
    assert CommissionPlan.objects.filter(pk=plan.pk).exists()


# Settlement terms and brand policies ------------------------------------------------------------


def test_settlement_terms_forms(hq, priced, brand, store):
    other = StoreFactory(code="NOT-AUR", brands=[])
    add = url("settlementterms_add")
    assert hq.get(add).status_code == 200

    wrong_store = form_errors(
        hq.post(add, {"brand": brand.pk, "store": other.pk, "mode": "T1", "hold_days": 1})
    )
    no_hold = form_errors(
        hq.post(add, {"brand": brand.pk, "store": store.pk, "mode": "TN", "hold_days": 0})
    )
    assert set(wrong_store) == {"store"}
    assert set(no_hold) == {"hold_days"}
    assert not SettlementTerms.objects.exists()

    # T+1 with any hold is saved as T+1's one day, as the API saves it.
    saved = hq.post(add, {"brand": brand.pk, "store": store.pk, "mode": "T1", "hold_days": 5})
    assert saved.status_code == 302
    terms = SettlementTerms.objects.get()
    assert (terms.mode, terms.hold_days) == ("T1", 1)
    assert_ledger_clean()

    change = url("settlementterms_change", terms.pk)
    assert hq.get(change).status_code == 200
    assert set(form_errors(hq.post(change, {"mode": "TN", "hold_days": ""}))) == {"hold_days"}
    assert hq.post(change, {"mode": "TN", "hold_days": 3}).status_code == 302
    terms.refresh_from_db()
    assert (terms.mode, terms.hold_days) == ("TN", 3)
    assert terms.history.count() == 2
    assert_ledger_clean()

    assert hq.post(url("settlementterms_delete", terms.pk), {"post": "yes"}).status_code == 302
    assert not SettlementTerms.objects.exists()
    assert_ledger_clean()


def test_brand_policy_forms(hq, priced, brand):
    add = url("brandcommissionpolicy_add")
    assert hq.get(add).status_code == 200
    body = {"brand": brand.pk, "attribution_policy": "order_guide_first", "binding_days": "",
            "till_grace_minutes": 30}  # fmt: skip

    too_long = form_errors(hq.post(add, {**body, "till_grace_minutes": 100_000}))
    assert set(too_long) == {"till_grace_minutes"}
    assert hq.post(add, body).status_code == 302
    policy = BrandCommissionPolicy.objects.get()
    assert policy.till_grace_minutes == 30

    change = url("brandcommissionpolicy_change", policy.pk)
    assert hq.get(change).status_code == 200
    assert set(form_errors(hq.post(change, {**body, "binding_days": "-1"}))) == {"binding_days"}
    assert hq.post(
        change, {**body, "binding_days": "30", "till_grace_minutes": 15}
    ).status_code == (302)
    policy.refresh_from_db()
    assert (policy.binding_days, policy.till_grace_minutes) == (30, 15)
    assert policy.history.count() == 2
    assert hq.post(url("brandcommissionpolicy_delete", policy.pk), {"post": "yes"}).status_code == (
        403
    )
    assert_ledger_clean()


# Adjustments and payouts --------------------------------------------------------------------


def test_adjustment_add_form(hq, priced, brand, store):
    _plan, guide, order = priced
    add = url("commissionadjustment_add")
    page = hq.get(add)
    assert page.status_code == 200
    body = {"reference": "ADJ-1", "brand": brand.pk, "beneficiary": "guide", "guide": guide.pk,
            "store": "", "order": order.pk, "amount": "-1.50",
            "reason": "Cashier keyed the wrong guide"}  # fmt: skip

    assert set(form_errors(hq.post(add, {**body, "guide": ""}))) == {"guide"}
    assert set(form_errors(hq.post(add, {**body, "amount": "0"}))) == {"amount"}
    assert set(form_errors(hq.post(add, {**body, "reference": "ADJ/1"}))) == {"reference"}
    assert not CommissionAdjustment.objects.exists()

    assert hq.post(add, body).status_code == 302
    adjustment = CommissionAdjustment.objects.get()
    assert adjustment.actor.username == "hq-walker"
    entry = CommissionEntry.objects.get(adjustment=adjustment)
    assert (entry.kind, entry.guide, entry.amount) == ("adjustment", guide, Decimal("-1.50"))
    assert hq.get(url("commissionadjustment_change", adjustment.pk)).status_code == 200  # view
    assert (
        hq.post(
            url("commissionadjustment_change", adjustment.pk), {**body, "amount": "9"}
        ).status_code
        == 403
    )
    assert_ledger_clean()


def test_settlement_change_form_marks_paid_through_the_service(hq, priced):
    settled = Settlement.objects.filter(status=Settlement.Status.SETTLED).first()
    change = url("settlement_change", settled.pk)
    assert hq.get(change).status_code == 200

    assert set(form_errors(hq.post(change, {"payout_ref": "  "}))) == {"payout_ref"}
    assert hq.post(change, {"payout_ref": "BANK-1"}).status_code == 302

    settled.refresh_from_db()
    assert (settled.status, settled.payout_ref) == (Settlement.Status.PAID, "BANK-1")
    assert settled.paid_at is not None
    assert_ledger_clean()


@pytest.mark.parametrize("model", ["order", "refund", "commissionentry", "settlementcutoff"])
def test_ledger_rows_have_no_add_or_change_form(hq, priced, model):
    assert hq.get(url(f"{model}_add")).status_code == 403

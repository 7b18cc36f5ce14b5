"""Joining at the till: the recruiting guide is credited exactly once, whatever arrives first."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from apps.commissions import services, tasks
from apps.commissions.calculations import Binding, binding_credit
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionEntry,
    Order,
    Settlement,
)
from apps.commissions.selectors import ledger_verify
from apps.customers.models import Membership
from apps.customers.services import member_join, membership_assign
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import CustomerFactory, GuideFactory, PendingMembershipFactory

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
GRACE = dt.timedelta(minutes=30)


@pytest.fixture
def recruiter(store):
    return GuideFactory(employee_no="E-QR", store=store)


@pytest.fixture
def plan(brand):
    return CommissionPlanFactory(
        brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00"),
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service as its entry point would, running what it queues on commit."""

    def _run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return _run


@pytest.fixture
def pay(run, brand, store, plan):
    def _pay(*, paid_at, order_no="POS-1", amount="100.00", **fields):
        order, _created = run(
            services.order_ingest, order_no=order_no, brand=brand, store=store,
            amount=Decimal(amount), paid_at=paid_at, member_phone=PHONE, **fields,
        )  # fmt: skip
        order.refresh_from_db()
        return order

    return _pay


@pytest.fixture
def sign_up(run, brand, store, recruiter):
    """A shopper scans the recruiter's QR code (store and guide)."""

    def _sign_up(*, guide=recruiter, joined_at=None):
        return run(
            member_join, brand=brand, phone=PHONE, source="store_qr", store=store, guide=guide,
            joined_at=joined_at,
        ).membership  # fmt: skip

    return _sign_up


def shares(order) -> dict:
    """(beneficiary, kind) → amount of the order's own entries (not clawbacks)."""
    return {
        (entry.beneficiary, entry.kind): entry.amount
        for entry in CommissionEntry.objects.filter(order=order, refund__isnull=True)
    }


def ledger_clean() -> bool:
    report = ledger_verify(grace=dt.timedelta(0))
    assert report.breaches == []
    return report.ok


# The rule itself, over plain values ---------------------------------------------------

T = dt.datetime(2026, 11, 11, 20, 0, tzinfo=dt.UTC)


def bound(at=T, *, joined=None, status="assigned", has_guide=True):
    return Binding(status=status, has_guide=has_guide, joined_at=joined or at, bound_at=at)


@pytest.mark.parametrize(
    ("binding", "paid_at", "binding_days", "expected"),
    [
        (None, T, None, "none_no_membership"),
        (bound(status="pending"), T, None, "pending_membership"),
        (bound(has_guide=False), T, None, "none_no_bound_guide"),
        (bound(), T, None, "bound_guide"),
        (bound(), T + dt.timedelta(days=3), 2, "none_binding_expired"),
        (bound(), T - dt.timedelta(minutes=29, seconds=59), None, "bound_at_till"),
        (bound(), T - GRACE, None, "bound_at_till"),
        (bound(), T - GRACE - dt.timedelta(seconds=1), None, "none_paid_before_binding"),
        # A later move (a handover) does not reach back to orders paid before it.
        (bound(joined=T - dt.timedelta(days=9)), T - dt.timedelta(minutes=1), None,
         "none_paid_before_binding"),
    ],
)  # fmt: skip
def test_binding_credit_rule(binding, paid_at, binding_days, expected):
    assert binding_credit(
        binding, paid_at=paid_at, binding_days=binding_days, till_grace=GRACE
    ) == (expected)


@given(
    offset=st.integers(-3 * 3600, 3 * 3600),
    grace_minutes=st.integers(0, 120),
)
def test_the_till_case_is_exactly_the_grace_before_the_binding(offset, grace_minutes):
    paid_at = T + dt.timedelta(seconds=offset)
    grace = dt.timedelta(minutes=grace_minutes)

    reason = binding_credit(bound(), paid_at=paid_at, binding_days=None, till_grace=grace)

    if paid_at >= T:
        assert reason == "bound_guide"
    elif paid_at >= T - grace:
        assert reason == "bound_at_till"
    else:
        assert reason == "none_paid_before_binding"


# Sign-up by QR code binds at once ---------------------------------------------------------


def test_a_qr_sign_up_is_bound_when_accepted_not_when_a_worker_runs(
    sign_up, store, recruiter, django_capture_on_commit_callbacks
):
    joined_at = timezone.now() - dt.timedelta(seconds=3)

    membership = sign_up(joined_at=joined_at)

    assert (membership.assignment_status, membership.store, membership.guide) == (
        "assigned", store, recruiter,
    )  # fmt: skip
    assert membership.bound_at == joined_at
    assert membership.events.get().reason == "explicit"


def test_a_member_bound_by_a_worker_is_bound_from_joining(run, brand, store, recruiter):
    joined_at = timezone.now() - dt.timedelta(hours=2)
    membership = Membership.objects.create(
        customer=CustomerFactory(phone=PHONE),
        brand=brand, latitude=store.latitude, longitude=store.longitude, source="h5",
        joined_at=joined_at,
    )  # fmt: skip

    run(membership_assign, membership_id=membership.pk)

    membership.refresh_from_db()
    assert membership.guide == recruiter
    assert membership.bound_at == joined_at


# Till grace -------------------------------------------------------------------------------


def test_order_paid_a_moment_before_the_qr_sign_up_credits_the_recruiter(sign_up, pay, recruiter):
    membership = sign_up()

    order = pay(paid_at=membership.bound_at - dt.timedelta(seconds=40))

    assert (order.attributed_guide, order.attribution_reason) == (recruiter, "bound_at_till")
    assert shares(order) == {
        ("store", "order"): Decimal("5.00"),
        ("guide", "order"): Decimal("3.00"),
    }
    assert ledger_clean()


def test_order_paid_before_the_brand_s_till_grace_credits_no_guide(sign_up, pay, brand):
    services.brand_commission_policy_set(brand=brand, till_grace_minutes=10)
    membership = sign_up()

    order = pay(paid_at=membership.bound_at - dt.timedelta(minutes=11))

    assert (order.attributed_guide, order.attribution_reason) == (None, "none_paid_before_binding")


def test_order_arriving_before_the_sign_up_gets_the_recruiters_share_added(sign_up, pay, recruiter):
    # Given the till's order, paid and sent a moment before the sign-up reached us
    paid_at = timezone.now() - dt.timedelta(seconds=5)
    order = pay(paid_at=paid_at)
    assert (order.attributed_guide, order.attribution_reason) == (None, "none_no_membership")
    store_entry = CommissionEntry.objects.get(order=order)

    # When the shopper's QR sign-up lands
    sign_up()

    # Then the recruiter's share is added beside the store's, which is untouched
    order.refresh_from_db()
    assert (order.attributed_guide, order.attribution_reason) == (recruiter, "bound_at_till")
    assert shares(order) == {
        ("store", "order"): Decimal("5.00"),
        ("guide", "bound_guide_late"): Decimal("3.00"),
    }
    assert CommissionEntry.objects.get(pk=store_entry.pk).amount == store_entry.amount
    assert ledger_clean()


# Pending memberships ----------------------------------------------------------------------


@pytest.fixture
def pending_member(brand, store):
    return PendingMembershipFactory(
        customer=CustomerFactory(phone=PHONE), brand=brand,
        latitude=store.latitude, longitude=store.longitude,
        joined_at=timezone.now() - dt.timedelta(minutes=2),
    )  # fmt: skip


def test_order_of_a_pending_member_waits_and_is_credited_when_the_binding_lands(
    pending_member, pay, run, recruiter
):
    order = pay(paid_at=timezone.now() - dt.timedelta(minutes=1))
    assert (order.attributed_guide, order.attribution_reason) == (None, "pending_membership")
    assert shares(order) == {("store", "order"): Decimal("5.00")}

    run(membership_assign, membership_id=pending_member.pk)

    order.refresh_from_db()
    assert (order.attributed_guide, order.attribution_reason) == (recruiter, "bound_guide")
    assert shares(order) == {
        ("store", "order"): Decimal("5.00"),
        ("guide", "bound_guide_late"): Decimal("3.00"),
    }
    assert ledger_clean()


def test_a_pending_member_left_unassigned_settles_the_order_as_no_guide(
    pending_member, pay, run, brand
):
    brand.max_assign_km = 1
    brand.save()
    Membership.objects.filter(pk=pending_member.pk).update(latitude=45.0, longitude=126.0)
    order = pay(paid_at=timezone.now() - dt.timedelta(minutes=1))

    run(membership_assign, membership_id=pending_member.pk)

    order.refresh_from_db()
    assert order.attribution_reason == "none_no_bound_guide"
    assert shares(order) == {("store", "order"): Decimal("5.00")}


def test_the_guides_late_share_goes_in_the_next_open_period_when_the_store_was_settled(
    pending_member, pay, run, recruiter, brand
):
    # Given a T+1 order of a pending member whose store share was settled overnight
    paid_at = timezone.now() - dt.timedelta(days=2)
    Membership.objects.filter(pk=pending_member.pk).update(joined_at=paid_at)
    order = pay(paid_at=paid_at)
    run_date = order.business_date + dt.timedelta(days=1)
    services.settlement_run(run_date=run_date)
    store_settlement = CommissionEntry.objects.get(order=order).settlement
    assert store_settlement.status == Settlement.Status.SETTLED

    # When the binding lands
    run(membership_assign, membership_id=pending_member.pk)

    # Then the guide's share is in the guide's first period still open
    late = CommissionEntry.objects.get(order=order, beneficiary="guide")
    assert late.kind == "bound_guide_late"
    assert late.settlement.status == Settlement.Status.OPEN
    assert late.settlement.period_start == run_date + dt.timedelta(days=1)
    assert CommissionEntry.objects.get(order=order, beneficiary="store").settlement == (
        store_settlement
    )
    assert ledger_clean()


def test_a_t0_order_gets_the_late_share_settled_at_once(pending_member, pay, run, brand, recruiter):
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)
    order = pay(paid_at=timezone.now() - dt.timedelta(minutes=1))

    run(membership_assign, membership_id=pending_member.pk)

    late = CommissionEntry.objects.get(order=order, beneficiary="guide")
    assert late.settlement.status == Settlement.Status.SETTLED
    assert late.settlement.total == Decimal("3.00")
    assert ledger_clean()


def test_a_refund_before_the_binding_claws_back_the_late_share_too(
    pending_member, pay, run, recruiter
):
    order = pay(paid_at=timezone.now() - dt.timedelta(minutes=1))
    run(
        services.refund_create, order=order, refund_no="RF-1", amount=Decimal("100.00"),
        refunded_at=timezone.now(),
    )  # fmt: skip

    run(membership_assign, membership_id=pending_member.pk)

    net = {
        beneficiary: sum(
            CommissionEntry.objects.filter(order=order, beneficiary=beneficiary).values_list(
                "amount", flat=True
            )
        )
        for beneficiary in ("store", "guide")
    }
    assert net == {"store": Decimal("0.00"), "guide": Decimal("0.00")}
    assert CommissionEntry.objects.filter(order=order, beneficiary="guide").count() == 2
    assert ledger_clean()


def test_the_entry_worker_credits_the_guide_when_the_binding_message_was_lost(
    pending_member, run, brand, store, plan, recruiter
):
    # Given an order of a pending member, accepted but not yet written
    order, _created = services.order_ingest(
        order_no="POS-1", brand=brand, store=store, amount=Decimal("100.00"),
        paid_at=timezone.now() - dt.timedelta(minutes=1), member_phone=PHONE,
    )  # fmt: skip
    # and the binding, whose re-attribution message is lost
    membership_assign(membership_id=pending_member.pk)

    # When the order's entry task runs
    tasks.order_entries_write_task(order.pk)

    # Then the guide's share is written with the store's, as one order
    order.refresh_from_db()
    assert (order.attributed_guide, order.attribution_reason) == (recruiter, "bound_guide")
    assert shares(order) == {
        ("store", "order"): Decimal("5.00"),
        ("guide", "order"): Decimal("3.00"),
    }


def test_the_nightly_run_credits_orders_whose_messages_were_lost(pending_member, pay, recruiter):
    order = pay(paid_at=timezone.now() - dt.timedelta(minutes=1))
    membership_assign(membership_id=pending_member.pk)  # its message is lost
    Membership.objects.filter(pk=pending_member.pk).update(
        updated_at=timezone.now() - dt.timedelta(hours=1)
    )
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    report = ledger_verify()
    assert [breach.code for breach in report.breaches] == ["attribution_open"]

    services.settlement_run(run_date=timezone.localdate())

    order.refresh_from_db()
    assert order.attributed_guide == recruiter
    assert ledger_clean()


def test_an_order_naming_its_guide_is_not_attributed_again(pending_member, pay, run, store):
    cashier = GuideFactory(store=store)
    order = pay(paid_at=timezone.now(), guide=cashier)

    run(membership_assign, membership_id=pending_member.pk)

    order.refresh_from_db()
    assert (order.attributed_guide, order.attribution_reason) == (cashier, "order_guide")


def test_bound_guide_first_waits_for_the_binding_even_when_the_order_names_a_guide(
    pending_member, pay, run, brand, store, recruiter
):
    BrandCommissionPolicy.objects.create(brand=brand, attribution_policy="bound_guide_first")
    cashier = GuideFactory(store=store, employee_no="Z-CASHIER")
    order = pay(paid_at=timezone.now(), guide=cashier)
    assert order.attribution_reason == "pending_membership"

    run(membership_assign, membership_id=pending_member.pk)

    order.refresh_from_db()
    assert (order.attributed_guide, order.attribution_reason) == (recruiter, "bound_guide")


@pytest.mark.parametrize(
    ("named", "queries"),
    [({"guide": True}, 7), ({"phone": True}, 8), ({"guide": True, "phone": True}, 7)],
)
def test_order_ingest_costs_no_more_queries_than_before(
    brand, store, recruiter, django_assert_num_queries, named, queries
):
    # The same count as before attribution knew about bindings: the order
    # looked up, the store's brand, the policy, the membership (only when the
    # phone decides), and the insert in its savepoint; since webhooks, one
    # read of the event types endpoints subscribe to (apps.core.webhooks).
    fields = {"guide": recruiter} if named.get("guide") else {}
    if named.get("phone"):
        fields["member_phone"] = PHONE

    with django_assert_num_queries(queries):
        services.order_ingest(
            order_no="COUNTED", brand=brand, store=store, amount=Decimal("1.00"),
            paid_at=timezone.now(), **fields,
        )  # fmt: skip

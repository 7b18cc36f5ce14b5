import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from apps.commissions import services
from apps.commissions.models import (
    BrandCommissionPolicy,
    CommissionEntry,
    Order,
    Settlement,
)
from apps.customers.models import Customer, Membership
from tests.commissions.factories import CommissionPlanFactory, SettlementTermsFactory
from tests.factories import GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PAID_AT = dt.datetime(2026, 3, 10, 18, 30, tzinfo=SHANGHAI)
DAY = PAID_AT.date()


@pytest.fixture
def plan(brand):
    return CommissionPlanFactory(
        brand=brand, guide_rate=Decimal("3.00"), store_rate=Decimal("5.00")
    )


@pytest.fixture
def ingest(django_capture_on_commit_callbacks, brand, store):
    """Ingest an order the way the API does, running the queued entry task."""

    def _ingest(**overrides):
        fields = {
            "order_no": "POS-1",
            "brand": brand,
            "store": store,
            "amount": Decimal("100.00"),
            "paid_at": PAID_AT,
            **overrides,
        }
        with django_capture_on_commit_callbacks(execute=True):
            order, _created = services.order_ingest(**fields)
        return order

    return _ingest


@pytest.fixture
def refund(django_capture_on_commit_callbacks):
    def _refund(order, refund_no, amount, refunded_at=PAID_AT + dt.timedelta(hours=1)):
        with django_capture_on_commit_callbacks(execute=True):
            refund, _created = services.refund_create(
                order=order, refund_no=refund_no, amount=Decimal(amount), refunded_at=refunded_at
            )
        return refund

    return _refund


def entries_of(order):
    return {
        (e.beneficiary, e.category, e.refund_id is not None): e.amount
        for e in CommissionEntry.objects.filter(order=order)
    }


def member(brand, guide, *, phone="13812345678", bound_at=PAID_AT - dt.timedelta(days=10)):
    customer = Customer.objects.create(phone=phone)
    return Membership.objects.create(
        customer=customer, brand=brand, store=guide.store, guide=guide,
        assignment_status="assigned", source="pos", joined_at=bound_at, bound_at=bound_at,
    )  # fmt: skip


# Plans ---------------------------------------------------------------------------


def test_most_specific_plan_wins_per_line_category(ingest, brand, store, guide):
    # Given plans at every level of specificity for a direct store
    store.kind = "direct"
    store.save()
    rates = {
        "brand": ("1.00", {}),
        "category": ("2.00", {"category": "shoes"}),
        "kind": ("3.00", {"store_kind": "direct"}),
        "kind+category": ("4.00", {"store_kind": "direct", "category": "bags"}),
        "store": ("5.00", {"store": store}),
        "store+category": ("6.00", {"store": store, "category": "apparel"}),
    }
    for rate, scope in rates.values():
        CommissionPlanFactory(brand=brand, guide_rate=Decimal(rate), store_rate=Decimal(rate),
                              **scope)  # fmt: skip

    # When an order has lines in several categories
    order = ingest(
        guide=guide,
        lines=[
            services.LineInput(sku="A", category="apparel", quantity=1, amount=Decimal("100")),
            services.LineInput(sku="B", category="bags", quantity=1, amount=Decimal("100")),
            services.LineInput(sku="C", category="shoes", quantity=1, amount=Decimal("100")),
        ],
        amount=Decimal("300.00"),
    )

    # Then each category earns at the most specific plan valid for it
    rates_by_category = {
        e.category: e.rate for e in CommissionEntry.objects.filter(order=order, beneficiary="store")
    }
    assert rates_by_category == {
        "apparel": Decimal("6.00"),  # store + category beats everything
        "bags": Decimal("5.00"),  # store beats kind + category
        "shoes": Decimal("5.00"),  # store beats category
    }


def test_without_store_plans_kind_and_category_plans_apply(ingest, brand, store):
    CommissionPlanFactory(brand=brand, store_rate=Decimal("1.00"))
    CommissionPlanFactory(brand=brand, category="shoes", store_rate=Decimal("2.00"))
    CommissionPlanFactory(brand=brand, store_kind="direct", store_rate=Decimal("3.00"))
    CommissionPlanFactory(
        brand=brand, store_kind="direct", category="bags", store_rate=Decimal("4.00")
    )
    order = ingest(
        lines=[
            services.LineInput(sku="B", category="bags", quantity=1, amount=Decimal("50")),
            services.LineInput(sku="C", category="shoes", quantity=1, amount=Decimal("50")),
        ]
    )

    rates = dict(CommissionEntry.objects.filter(order=order).values_list("category", "rate"))
    assert rates == {"bags": Decimal("4.00"), "shoes": Decimal("3.00")}


def test_plan_validity_is_judged_on_the_business_date(ingest, brand):
    CommissionPlanFactory(brand=brand, store_rate=Decimal("1.00"), valid_to=DAY - dt.timedelta(1))
    CommissionPlanFactory(brand=brand, store_rate=Decimal("2.00"), valid_from=DAY)

    order = ingest()

    assert CommissionEntry.objects.get(order=order).rate == Decimal("2.00")


def test_overlapping_plans_of_equal_specificity_are_rejected(brand):
    services.commission_plan_create(
        brand=brand, guide_rate=Decimal("1"), store_rate=Decimal("2"),
        valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 6, 30),
    )  # fmt: skip

    with pytest.raises(ValidationError) as error:
        services.commission_plan_create(
            brand=brand, guide_rate=Decimal("1"), store_rate=Decimal("2"),
            valid_from=dt.date(2026, 6, 30),
        )  # fmt: skip

    assert "valid_from" in error.value.message_dict
    # A plan of another specificity may overlap.
    services.commission_plan_create(
        brand=brand, category="shoes", guide_rate=Decimal("1"), store_rate=Decimal("2"),
        valid_from=dt.date(2026, 3, 1),
    )  # fmt: skip


def test_later_plan_edits_never_change_written_entries(ingest, plan):
    order = ingest()
    plan.store_rate = Decimal("9.00")
    plan.save()

    assert CommissionEntry.objects.get(order=order, beneficiary="store").amount == Decimal("5.00")


# Rounding and refunds ------------------------------------------------------------


def test_each_entry_is_rounded_half_up(ingest, plan, guide):
    order = ingest(amount=Decimal("99.99"), guide=guide)  # 4.9995 and 2.9997

    assert entries_of(order) == {
        ("store", "", False): Decimal("5.00"),
        ("guide", "", False): Decimal("3.00"),
    }


def test_partial_refunds_then_full_refund_net_to_zero(ingest, refund, plan, guide):
    order = ingest(amount=Decimal("99.99"), guide=guide)

    refund(order, "R1", "33.33")
    refund(order, "R2", "33.33")
    refund(order, "R3", "33.33")

    for beneficiary in ("store", "guide"):
        amounts = list(
            CommissionEntry.objects.filter(order=order, beneficiary=beneficiary)
            .order_by("pk")
            .values_list("amount", flat=True)
        )
        assert len(amounts) == 4
        assert sum(amounts) == Decimal("0.00")
    order.refresh_from_db()
    assert order.refunded_amount == order.amount


def test_refund_above_the_remaining_amount_is_rejected(ingest, refund, plan):
    order = ingest(amount=Decimal("100.00"))
    refund(order, "R1", "60.00")

    with pytest.raises(ValidationError) as error:
        refund(order, "R2", "40.01")

    assert "amount" in error.value.message_dict
    assert order.refunds.count() == 1


def test_refund_is_idempotent_on_refund_no(ingest, refund, plan):
    order = ingest()
    first = refund(order, "R1", "10.00")

    again = refund(order, "R1", "10.00")

    assert again.pk == first.pk
    assert CommissionEntry.objects.filter(refund__isnull=False).count() == 1
    with pytest.raises(services.DuplicateWithDifferentContent):
        refund(order, "R1", "11.00")


# Ingestion -----------------------------------------------------------------------


def test_same_order_twice_writes_nothing_new(ingest, plan):
    first = ingest()

    again = ingest()

    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert CommissionEntry.objects.count() == 1


def test_same_order_no_with_different_content_conflicts(ingest, plan):
    ingest()

    with pytest.raises(services.DuplicateWithDifferentContent):
        ingest(amount=Decimal("100.01"))


def test_business_date_is_the_local_date_in_shanghai(ingest, plan):
    order = ingest(paid_at=dt.datetime(2026, 3, 10, 16, 30, tzinfo=dt.UTC))  # 00:30 on the 11th

    assert order.business_date == dt.date(2026, 3, 11)


def test_store_not_carrying_the_brand_is_rejected(ingest):
    other = StoreFactory(code="BJ99", brands=[])

    with pytest.raises(ValidationError) as error:
        ingest(store=other)

    assert "store" in error.value.message_dict
    assert not Order.objects.exists()


def test_lines_must_add_up(ingest):
    with pytest.raises(ValidationError) as error:
        ingest(lines=[services.LineInput(sku="A", quantity=1, amount=Decimal("99.00"))])

    assert "lines" in error.value.message_dict


# Attribution ---------------------------------------------------------------------


def test_order_guide_is_attributed_first(ingest, brand, store, guide):
    bound = GuideFactory(store=store)
    member(brand, bound)

    order = ingest(guide=guide, member_phone="+86 138-1234-5678")

    assert (order.attributed_guide, order.attribution_reason) == (guide, "order_guide")
    assert order.member_phone == "13812345678"


def test_bound_guide_earns_when_the_order_names_none(ingest, brand, guide):
    member(brand, guide)

    order = ingest(member_phone="13812345678")

    assert (order.attributed_guide, order.attribution_reason) == (guide, "bound_guide")


def test_binding_window_that_has_run_out_leaves_only_the_store(ingest, brand, guide, plan):
    BrandCommissionPolicy.objects.create(brand=brand, binding_days=7)
    member(brand, guide, bound_at=PAID_AT - dt.timedelta(days=8))

    order = ingest(member_phone="13812345678")

    assert (order.attributed_guide, order.attribution_reason) == (None, "none_binding_expired")
    assert set(entries_of(order)) == {("store", "", False)}


def test_binding_window_still_covering_paid_at(ingest, brand, guide):
    BrandCommissionPolicy.objects.create(brand=brand, binding_days=30)
    member(brand, guide, bound_at=PAID_AT - dt.timedelta(days=29))

    order = ingest(member_phone="13812345678")

    assert order.attributed_guide == guide


def test_bound_guide_first_policy_flips_the_order(ingest, brand, store, guide):
    BrandCommissionPolicy.objects.create(
        brand=brand, attribution_policy="bound_guide_first", binding_days=None
    )
    cashier = GuideFactory(store=store)
    member(brand, guide)

    order = ingest(guide=cashier, member_phone="13812345678")

    assert (order.attributed_guide, order.attribution_reason) == (guide, "bound_guide")


def test_invalid_member_phone_is_a_field_error(ingest):
    with pytest.raises(ValidationError) as error:
        ingest(member_phone="12345")

    assert "member_phone" in error.value.message_dict


# Settlement modes ----------------------------------------------------------------


def test_t0_entries_are_settled_as_soon_as_written(ingest, brand, plan, guide):
    SettlementTermsFactory(brand=brand, mode="T0", hold_days=0)

    order = ingest(guide=guide)

    settlements = Settlement.objects.order_by("beneficiary")
    assert [(s.beneficiary, s.total, s.period_start, s.source_ref) for s in settlements] == [
        ("guide", Decimal("3.00"), DAY, "order:POS-1"),
        ("store", Decimal("5.00"), DAY, "order:POS-1"),
    ]
    assert not CommissionEntry.objects.filter(order=order, settlement__isnull=True).exists()


def test_t1_settles_the_next_day_and_rerunning_writes_nothing(ingest, plan):
    ingest()

    assert services.settlement_run(run_date=DAY).settlement_count == 0
    first = services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    again = services.settlement_run(run_date=DAY + dt.timedelta(days=1))

    assert (first.settlement_count, first.entry_count, first.total) == (1, 1, Decimal("5.00"))
    assert again.settlement_count == 0
    assert Settlement.objects.get().period_end == DAY + dt.timedelta(days=1)


def test_closing_settlements_records_one_settlement_closed_event_each(ingest, plan):
    from apps.core.models import WebhookEvent
    from apps.core.webhooks import webhook_endpoint_create

    webhook_endpoint_create(url="https://erp.example.com/hook", events=["settlement.closed"])
    ingest()

    services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))

    events = WebhookEvent.objects.filter(type="settlement.closed")
    assert [(e.data["beneficiary"], e.data["total"], e.data["status"]) for e in events] == [
        ("store", "5.00", "settled")
    ]


def test_tn_holds_entries_for_n_days(ingest, brand, store, plan):
    SettlementTermsFactory(brand=brand, store=store, mode="TN", hold_days=3)
    SettlementTermsFactory(brand=brand, mode="T1", hold_days=1)
    ingest()

    assert services.settlement_run(run_date=DAY + dt.timedelta(days=2)).settlement_count == 0
    assert services.settlement_run(run_date=DAY + dt.timedelta(days=3)).settlement_count == 1
    assert Settlement.objects.get().mode == "TN"


def test_monthly_settles_the_previous_month_on_the_first(ingest, brand, plan):
    SettlementTermsFactory(brand=brand, mode="MONTHLY", hold_days=0)
    ingest()

    assert services.settlement_run(run_date=dt.date(2026, 3, 31)).settlement_count == 0
    result = services.settlement_run(run_date=dt.date(2026, 4, 1))

    settlement = Settlement.objects.get()
    assert result.settlement_count == 1
    assert (settlement.period_start, settlement.period_end) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 31),
    )


def test_late_order_is_caught_by_the_next_run(ingest, plan):
    ingest(order_no="ON-TIME")
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))

    late = ingest(order_no="LATE")  # paid on DAY, arrives after DAY+1's run
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))  # re-run: nothing new
    waiting = CommissionEntry.objects.get(order=late).settlement
    assert waiting.status == Settlement.Status.OPEN
    assert waiting.period_end == DAY + dt.timedelta(days=2)  # the day's period is closed

    services.settlement_run(run_date=DAY + dt.timedelta(days=2))

    assert CommissionEntry.objects.get(order=late).settlement.period_end == DAY + dt.timedelta(2)
    assert Settlement.objects.count() == 2


def test_clawback_after_a_paid_settlement_is_carried_forward(ingest, refund, plan):
    # Given a settled and paid order
    order = ingest(order_no="A", amount=Decimal("100.00"))
    services.settlement_run(run_date=DAY + dt.timedelta(days=1))
    services.settlement_mark_paid(settlement=Settlement.objects.get(), payout_ref="PAY-1")

    # When it is fully refunded the next day and settled
    refund(order, "RA", "100.00", refunded_at=PAID_AT + dt.timedelta(days=1))
    services.settlement_run(run_date=DAY + dt.timedelta(days=2))
    clawback = Settlement.objects.get(period_end=DAY + dt.timedelta(days=2))
    assert clawback.total == Decimal("-5.00")
    with pytest.raises(ValidationError):
        services.settlement_mark_paid(settlement=clawback, payout_ref="PAY-2")

    # Then the next settlement nets the negative balance
    ingest(order_no="B", amount=Decimal("300.00"), paid_at=PAID_AT + dt.timedelta(days=2))
    services.settlement_run(run_date=DAY + dt.timedelta(days=3))
    nxt = Settlement.objects.get(period_end=DAY + dt.timedelta(days=3))
    assert (nxt.entries_total, nxt.carried_forward, nxt.total) == (
        Decimal("15.00"),
        Decimal("-5.00"),
        Decimal("10.00"),
    )
    assert nxt.carried_from == clawback


def test_settlement_totals_are_sums_of_entries(ingest, refund, plan, guide):
    for n in range(5):
        ingest(order_no=f"O{n}", amount=Decimal("33.33") + n, guide=guide)
    refund(Order.objects.get(order_no="O1"), "R1", "10.01")

    services.settlement_run(run_date=DAY + dt.timedelta(days=1))

    for settlement in Settlement.objects.all():
        assert settlement.total == sum(e.amount for e in settlement.entries.all())


def test_dry_run_writes_nothing(ingest, plan):
    ingest()

    result = services.settlement_run(run_date=DAY + dt.timedelta(days=1), dry_run=True)

    assert result.settlement_count == 1
    assert result.preview[0][-1] == Decimal("5.00")
    assert not Settlement.objects.exclude(status=Settlement.Status.OPEN).exists()
    assert CommissionEntry.objects.get().settlement.status == Settlement.Status.OPEN


def test_settling_one_brand_leaves_the_others(ingest, plan, brand):
    from tests.factories import BrandFactory

    other = BrandFactory(code="OTH")
    ingest()

    services.settlement_run(run_date=DAY + dt.timedelta(days=1), brand=other)

    assert not Settlement.objects.exclude(status=Settlement.Status.OPEN).exists()
    services.settlement_run(run_date=DAY + dt.timedelta(days=1), brand=brand)
    assert Settlement.objects.get().status == Settlement.Status.SETTLED

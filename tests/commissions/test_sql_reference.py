"""The set-based SQL against the reference arithmetic and plan rule of ``calculations``.

The ledger is written by SQL in integer cents (``apps.commissions.sql``);
``calculations`` says what it must come to. Hypothesis draws orders, refund
sequences and plan sets; each example runs in a transaction rolled back at
its end, on whichever database the suite runs on (SQLite or PostgreSQL).
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.commissions import services
from apps.commissions.calculations import PlanScope, clawback_cents, plan_choose
from apps.commissions.models import CommissionEntry, CommissionPlan, Order, Store
from apps.core.money import from_cents, to_cents
from tests.commissions.factories import CommissionPlanFactory
from tests.factories import BrandFactory, GuideFactory, StoreFactory

pytestmark = pytest.mark.django_db
PAID_AT = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)
DB_EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_numbers = itertools.count()


def _rolled_back(check):
    """Run ``check`` in a transaction that is rolled back, whatever it wrote."""
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


@st.composite
def refunded_orders(draw):
    """An order amount, its plan's two rates (at most 100 % together), and refunds that never
    exceed the amount."""
    order_cents = draw(st.integers(1, 50_000_000))
    guide_bp = draw(st.integers(0, 10_000))
    rates = [guide_bp, draw(st.integers(0, 10_000 - guide_bp))]
    refunds, left = [], order_cents
    for _ in range(draw(st.integers(1, 5))):
        if left == 0:
            break
        cents = draw(st.integers(1, left) | st.just(left))
        refunds.append(cents)
        left -= cents
    return order_cents, rates, refunds


@DB_EXAMPLES
@given(case=refunded_orders())
def test_sql_clawbacks_equal_the_reference_arithmetic(case):
    order_cents, (guide_bp, store_bp), refund_cents = case

    def check():
        brand = BrandFactory()
        store = StoreFactory(brands=[brand])
        guide = GuideFactory(store=store)
        CommissionPlanFactory(
            brand=brand, guide_rate=from_cents(guide_bp), store_rate=from_cents(store_bp)
        )
        order, _created = services.order_ingest(
            order_no=f"P-{next(_numbers)}", brand=brand, store=store, guide=guide,
            amount=from_cents(order_cents), paid_at=PAID_AT,
        )  # fmt: skip
        services.commission_entries_write(order_id=order.pk)
        for number, cents in enumerate(refund_cents):
            services.refund_create(
                order=order, refund_no=f"{order.order_no}-R{number}", amount=from_cents(cents),
                refunded_at=PAID_AT + dt.timedelta(hours=number + 1),
            )  # fmt: skip
            services.commission_entries_write(order_id=order.pk)

        originals = {
            e.beneficiary: to_cents(e.amount)
            for e in CommissionEntry.objects.filter(order=order, refund__isnull=True)
        }
        refunded_before = 0
        for refund in order.refunds.order_by("pk"):
            refund_amount = to_cents(refund.amount)
            for beneficiary, original in originals.items():
                entry = CommissionEntry.objects.get(refund=refund, beneficiary=beneficiary)
                expected = clawback_cents(original, order_cents, refunded_before, refund_amount)
                assert to_cents(entry.amount) == -expected
            refunded_before += refund_amount
        if refunded_before == order_cents:
            net = CommissionEntry.objects.filter(order=order)
            assert sum(to_cents(e.amount) for e in net) == 0

    _rolled_back(check)


STORE_KINDS = [kind for kind, _label in Store.Kind.choices]
CATEGORIES = ["", "shoes", "bags"]
DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(0, 120, 15)]


@st.composite
def plan_sets(draw):
    """Plans of one brand at random scopes and validity, never two of equal scope overlapping."""
    plans = []
    for _ in range(draw(st.integers(1, 8))):
        scope = draw(st.sampled_from(["brand", "kind", "store"]))
        valid_from = draw(st.sampled_from(DAYS))
        valid_to = draw(st.one_of(st.none(), st.sampled_from([d for d in DAYS if d >= valid_from])))
        plans.append(
            {
                "store_kind": draw(st.sampled_from(STORE_KINDS)) if scope == "kind" else "",
                "at_store": scope == "store",
                "category": draw(st.sampled_from(CATEGORIES)),
                "valid_from": valid_from,
                "valid_to": valid_to,
            }
        )
    sale = {
        "store_kind": draw(st.sampled_from(STORE_KINDS)),
        "category": draw(st.sampled_from(CATEGORIES)),
        "business_day": draw(st.sampled_from(DAYS)),
    }
    return plans, sale


@DB_EXAMPLES
@given(case=plan_sets())
def test_sql_plan_resolution_picks_the_reference_plan(case):
    plans, sale = case

    def check():
        brand = BrandFactory()
        store = StoreFactory(brands=[brand], kind=sale["store_kind"])
        created = []
        for number, plan in enumerate(plans):
            try:
                created.append(
                    services.commission_plan_create(
                        brand=brand,
                        store=store if plan["at_store"] else None,
                        store_kind=plan["store_kind"],
                        category=plan["category"],
                        guide_rate=Decimal(number),
                        store_rate=Decimal(number),
                        valid_from=plan["valid_from"],
                        valid_to=plan["valid_to"],
                    )
                )
            except ValidationError as exc:  # an overlap the services refuse, as they should
                assert "valid_from" in exc.message_dict
        paid_at = dt.datetime.combine(sale["business_day"], dt.time(12), tzinfo=dt.UTC)
        order, _created = services.order_ingest(
            order_no=f"PL-{next(_numbers)}", brand=brand, store=store, amount=Decimal("100.00"),
            paid_at=paid_at,
            lines=[services.LineInput(sku="X", quantity=1, amount=Decimal("100.00"),
                                      category=sale["category"])],
        )  # fmt: skip
        services.commission_entries_write(order_id=order.pk)

        reference = plan_choose(
            [
                PlanScope(p.pk, p.specificity, p.valid_from, p.valid_to, p.store_id,
                          p.store_kind, p.category)
                for p in CommissionPlan.objects.filter(brand=brand)
            ],
            store_id=store.pk, store_kind=store.kind, category=sale["category"],
            business_date=Order.objects.get(pk=order.pk).business_date,
        )  # fmt: skip
        written = set(CommissionEntry.objects.filter(order=order).values_list("plan_id", flat=True))
        assert written == (set() if reference is None else {reference})
        assert created or reference is None

    _rolled_back(check)

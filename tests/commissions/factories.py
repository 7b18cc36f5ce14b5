"""Factories of the commissions app."""

import datetime as dt
from decimal import Decimal

import factory

from apps.commissions.models import (
    CommissionEntry,
    CommissionPlan,
    Order,
    Settlement,
    SettlementTerms,
)
from apps.commissions.services import business_date_of, plan_specificity
from tests.factories import BrandFactory, GuideFactory, StoreFactory

PAID_AT = dt.datetime(2026, 3, 10, 10, 30, tzinfo=dt.UTC)  # 18:30 in Shanghai


class CommissionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommissionPlan

    brand = factory.SubFactory(BrandFactory)
    store = None
    store_kind = ""
    category = ""
    guide_rate = Decimal("3.00")
    store_rate = Decimal("5.00")
    valid_from = dt.date(2026, 1, 1)
    valid_to = None
    specificity = factory.LazyAttribute(
        lambda o: plan_specificity(store=o.store, store_kind=o.store_kind, category=o.category)
    )


class SettlementTermsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SettlementTerms

    brand = factory.SubFactory(BrandFactory)
    store = None
    mode = "T1"
    hold_days = 1


class OrderFactory(factory.django.DjangoModelFactory):
    """An order row as ingestion would store it; attribution is given, not computed."""

    class Meta:
        model = Order

    order_no = factory.Sequence(lambda n: f"ORD{n:08d}")
    brand = factory.SubFactory(BrandFactory)
    store = factory.SubFactory(
        StoreFactory, brands=factory.LazyAttribute(lambda s: [s.factory_parent.brand])
    )
    amount = Decimal("100.00")
    paid_at = PAID_AT
    business_date = factory.LazyAttribute(lambda o: business_date_of(o.paid_at))
    attributed_guide = None
    attribution_reason = factory.LazyAttribute(
        lambda o: "order_guide" if o.attributed_guide else "none_no_membership"
    )
    request_hash = "factory"


class CommissionEntryFactory(factory.django.DjangoModelFactory):
    """A guide's ledger line on a fresh order of ``guide``'s store; pass ``guide=None`` and
    ``beneficiary="store"`` for the store's line."""

    class Meta:
        model = CommissionEntry

    beneficiary = "guide"
    kind = factory.LazyAttribute(lambda o: "refund" if o.refund else "order")
    refund = None
    guide = factory.SubFactory(GuideFactory)
    store = factory.LazyAttribute(lambda o: o.guide.store if o.guide else StoreFactory())
    brand = factory.LazyAttribute(lambda o: o.store.brands.first() or BrandFactory())
    order = factory.LazyAttribute(
        lambda o: OrderFactory(
            brand=o.brand,
            store=o.store,
            attributed_guide=o.guide,
            business_date=o.business_date,
            amount=o.base_amount,
        )
    )
    plan = factory.LazyAttribute(lambda o: CommissionPlanFactory(brand=o.brand))
    category = ""
    business_date = dt.date(2026, 3, 10)
    base_amount = Decimal("100.00")
    rate = Decimal("3.00")
    amount = factory.LazyAttribute(
        lambda o: (o.base_amount * o.rate / 100).quantize(Decimal("0.01"))
    )
    mode = "T1"
    hold_days = 1
    settlement = None
    created_at = PAID_AT


class SettlementFactory(factory.django.DjangoModelFactory):
    """A guide's settlement; ``total`` equals ``entries_total``."""

    class Meta:
        model = Settlement

    beneficiary = "guide"
    guide = factory.SubFactory(GuideFactory)
    store = factory.LazyAttribute(lambda o: o.guide.store)
    brand = factory.LazyAttribute(lambda o: o.store.brands.first() or BrandFactory())
    mode = "T1"
    period_start = dt.date(2026, 3, 10)
    period_end = factory.SelfAttribute("period_start")
    entries_total = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.entries_total)
    run_token = "factory"

"""Factories of the commissions app."""

import datetime as dt
from decimal import Decimal

import factory

from apps.commissions.models import CommissionPlan, Order, SettlementTerms
from apps.commissions.services import business_date_of, plan_specificity
from tests.factories import BrandFactory, StoreFactory

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
        lambda o: "order_guide" if o.attributed_guide else "none"
    )
    request_hash = "factory"

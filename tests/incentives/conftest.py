import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from apps.commissions.models import Refund
from apps.core.scoping import Scope
from apps.incentives import services
from apps.incentives.models import IncentivePolicy
from tests.commissions.factories import CommissionEntryFactory, CommissionPlanFactory
from tests.factories import GuideFactory, UserFactory

MARCH = dt.date(2026, 3, 1)
EVERYTHING = Scope(everything=True, masks_phones=False)


def sale(*, guide, plan, amount, day=dt.date(2026, 3, 10)):
    """A sale credited to ``guide`` and the guide's store: both entries, as the writer makes."""
    guide_entry = CommissionEntryFactory(
        guide=guide, store=guide.store, brand=plan.brand, plan=plan, base_amount=amount,
        business_date=day,
    )  # fmt: skip
    CommissionEntryFactory(
        order=guide_entry.order, beneficiary="store", guide=None, store=guide.store,
        brand=plan.brand, plan=plan, base_amount=amount, rate=Decimal("5.00"), business_date=day,
    )  # fmt: skip
    return guide_entry.order


def refund(*, order, amount, day):
    """Refund ``amount`` of ``order`` on ``day``: clawbacks of its guide and store entries."""
    row = Refund.objects.create(
        refund_no=f"R-{order.order_no}-{day}", order=order, amount=amount,
        refunded_at=dt.datetime.combine(day, dt.time(4), tzinfo=dt.UTC), business_date=day,
        request_hash="t",
    )  # fmt: skip
    order.refunded_amount += amount
    order.save(update_fields=["refunded_amount"])
    for entry in order.entries.filter(refund__isnull=True):
        base = -amount * entry.base_amount / order.amount
        CommissionEntryFactory(
            order=order, refund=row, beneficiary=entry.beneficiary, guide=entry.guide,
            store=entry.store, brand=entry.brand, plan=entry.plan, base_amount=base,
            rate=entry.rate, amount=(base * entry.rate / 100).quantize(Decimal("0.01")),
            business_date=day,
        )  # fmt: skip
    return row


@pytest.fixture
def hq(db):
    from apps.core.roles import Role

    return UserFactory(username="hq-incentives", role=Role.HQ_OPS)


@pytest.fixture
def month_setup(brand, store, hq):
    """Two guides with targets of 10,000 for March, a plan paying 1 % / 2 % above 100 / 120 %."""
    plan = CommissionPlanFactory(brand=brand)
    first = GuideFactory(employee_no="G1", store=store)
    second = GuideFactory(employee_no="G2", store=store)
    IncentivePolicy.objects.create(brand=brand, close_hold_days=7, points_per_100_sales=1)
    bonus_plan = services.bonus_plan_create(
        name="Spring", brand=brand, beneficiary="guide", basis="achievement",
        brackets=[{"from": "100", "to": "120", "rate": "1"}, {"from": "120", "rate": "2"}],
        valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    for guide in (first, second):
        services.sales_target_set(
            scope=EVERYTHING, actor=hq, brand=brand, month=MARCH, amount=Decimal("10000"),
            guide=guide,
        )  # fmt: skip
    return SimpleNamespace(plan=plan, first=first, second=second, bonus_plan=bonus_plan)

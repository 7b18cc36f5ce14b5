import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection

from tests.commissions.factories import (
    CommissionEntryFactory,
    CommissionPlanFactory,
    OrderFactory,
    SettlementFactory,
)
from tests.factories import GuideFactory

LEDGER_DAY = dt.date(2026, 11, 18)

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (row locks, concurrent transactions); the database is SQLite",
)


@pytest.fixture
def guide(store):
    return GuideFactory(employee_no="E1001", store=store)


@pytest.fixture
def ledger(org):
    """Per guide of ``org``: an order on LEDGER_DAY (member phone 1370000000N), the
    guide's entry (3 % of 100) in a settlement and the store's entry (5 %) unsettled."""
    aurora = org.brands[0]
    plan = CommissionPlanFactory(brand=aurora)
    orders, settlements = {}, {}
    for number, (employee_no, guide) in enumerate(org.guides.items(), start=1):
        order = OrderFactory(
            order_no=f"O-{employee_no}",
            brand=aurora,
            store=guide.store,
            attributed_guide=guide,
            member_phone=f"1370000{number:04d}",
            business_date=LEDGER_DAY,
        )
        settlement = SettlementFactory(guide=guide, brand=aurora, period_start=LEDGER_DAY)
        for beneficiary, entry_guide, rate in (("guide", guide, "3.00"), ("store", None, "5.00")):
            CommissionEntryFactory(
                order=order,
                beneficiary=beneficiary,
                guide=entry_guide,
                store=guide.store,
                brand=aurora,
                plan=plan,
                business_date=LEDGER_DAY,
                rate=Decimal(rate),
                settlement=settlement if entry_guide else None,
            )
        orders[employee_no], settlements[employee_no] = order, settlement
    return SimpleNamespace(orders=orders, settlements=settlements)

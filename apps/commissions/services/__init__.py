"""Writes of the commissions app, one module per part of the ledger's life.

- ``plans``: commission plans and settlement terms (the rules that price entries);
- ``orders``: paid orders and refunds, accepted once and attributed to a guide;
- ``entries``: ledger entries of orders and refunds, and the catch-up of lost ones;
- ``settlements``: scheduled runs, T+0 settlement and payouts;
- ``new_orders``: a worker's batch of newly received orders, written and settled.

The public functions are re-exported here, so callers write
``services.order_ingest(...)`` wherever the function lives.
"""

from apps.commissions.services.entries import commission_entries_catch_up, commission_entries_write
from apps.commissions.services.new_orders import order_entries_write, orders_waiting_write
from apps.commissions.services.orders import (
    DuplicateWithDifferentContent,
    LineInput,
    business_date_of,
    order_attribute,
    order_ingest,
    refund_create,
)
from apps.commissions.services.plans import (
    commission_plan_create,
    commission_plan_validate,
    plan_specificity,
    settlement_terms_set,
)
from apps.commissions.services.settlements import (
    SettlementRunResult,
    settlement_mark_paid,
    settlement_modes_due,
    settlement_run,
    settlement_settle_t0,
    settlement_settle_t0_orders,
)

__all__ = [
    "DuplicateWithDifferentContent",
    "LineInput",
    "SettlementRunResult",
    "business_date_of",
    "commission_entries_catch_up",
    "commission_entries_write",
    "commission_plan_create",
    "commission_plan_validate",
    "order_attribute",
    "order_entries_write",
    "order_ingest",
    "orders_waiting_write",
    "plan_specificity",
    "refund_create",
    "settlement_mark_paid",
    "settlement_modes_due",
    "settlement_run",
    "settlement_settle_t0",
    "settlement_settle_t0_orders",
    "settlement_terms_set",
]

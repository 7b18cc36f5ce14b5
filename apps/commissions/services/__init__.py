"""Writes of the commissions app, one module per part of the ledger's life.

- ``plans``: commission plans, settlement terms and brand policies (the rules that
  price and attribute entries);
- ``orders``: paid orders and refunds, accepted once and attributed to a guide;
- ``entries``: ledger entries of orders and refunds, and the catch-up of lost ones;
- ``settlements``: scheduled runs, T+0 settlement and payouts;
- ``new_orders``: a worker's batch of newly received orders, written and settled;
- ``attribution``: orders attributed again once their member's binding lands;
- ``adjustments``: HQ's corrections of what someone earned, as ledger entries.

The public functions are re-exported here, so callers write
``services.order_ingest(...)`` wherever the function lives.
"""

from apps.commissions.services.adjustments import (
    commission_adjustment_check,
    commission_adjustment_create,
)
from apps.commissions.services.attribution import (
    member_orders_reattribute,
    order_attribution_refresh,
    orders_attribution_catch_up,
)
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
    brand_commission_policy_set,
    commission_plan_check,
    commission_plan_check_changes,
    commission_plan_create,
    commission_plan_delete,
    commission_plan_succeed,
    commission_plan_update,
    commission_plan_validate,
    plan_has_entries,
    plan_specificity,
    settlement_terms_check,
    settlement_terms_delete,
    settlement_terms_set,
)
from apps.commissions.services.settlements import (
    SettlementRunResult,
    settlement_mark_paid,
    settlement_mark_paid_check,
    settlement_modes_due,
    settlement_run,
    settlement_settle_bonus_entries,
    settlement_settle_t0,
    settlement_settle_t0_orders,
)

__all__ = [
    "DuplicateWithDifferentContent",
    "LineInput",
    "SettlementRunResult",
    "brand_commission_policy_set",
    "business_date_of",
    "commission_adjustment_check",
    "commission_adjustment_create",
    "commission_entries_catch_up",
    "commission_entries_write",
    "commission_plan_check",
    "commission_plan_check_changes",
    "commission_plan_create",
    "commission_plan_delete",
    "commission_plan_succeed",
    "commission_plan_update",
    "commission_plan_validate",
    "member_orders_reattribute",
    "order_attribute",
    "order_attribution_refresh",
    "order_entries_write",
    "order_ingest",
    "orders_attribution_catch_up",
    "orders_waiting_write",
    "plan_has_entries",
    "plan_specificity",
    "refund_create",
    "settlement_mark_paid",
    "settlement_mark_paid_check",
    "settlement_modes_due",
    "settlement_run",
    "settlement_settle_bonus_entries",
    "settlement_settle_t0",
    "settlement_settle_t0_orders",
    "settlement_terms_check",
    "settlement_terms_delete",
    "settlement_terms_set",
]

"""Writes of the incentives app: targets, bonus plans, the month close and points.

- ``targets``: monthly targets, one at a time or a CSV, all or nothing;
- ``plans``: bonus plans with validated brackets, frozen once they paid;
- ``close``: the month close and the bonus adjustments refunds call for;
- ``points``: redemptions by HQ;
- ``expiry``: points a brand lets expire, first in, first out.
"""

from apps.incentives.services.close import (
    CloseResult,
    bonus_close_run,
    bonus_month_close,
    bonus_months_due,
    net_sales_by_beneficiary,
)
from apps.incentives.services.expiry import (
    ExpiryResult,
    expiry_plan,
    points_expire,
    points_expire_run,
)
from apps.incentives.services.plans import (
    bonus_plan_create,
    bonus_plan_update,
    incentive_policy_set,
)
from apps.incentives.services.points import points_redeem
from apps.incentives.services.targets import (
    RowError,
    TargetImportError,
    month_parse,
    sales_target_set,
    sales_targets_import,
)

__all__ = [
    "CloseResult",
    "ExpiryResult",
    "RowError",
    "TargetImportError",
    "bonus_close_run",
    "bonus_month_close",
    "bonus_months_due",
    "bonus_plan_create",
    "bonus_plan_update",
    "expiry_plan",
    "incentive_policy_set",
    "month_parse",
    "net_sales_by_beneficiary",
    "points_expire",
    "points_expire_run",
    "points_redeem",
    "sales_target_set",
    "sales_targets_import",
]

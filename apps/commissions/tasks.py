"""Celery entry points: take ids, call a service, retry only what is transient."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from apps.commissions import services, task_names
from apps.commissions.calculations import month_bounds
from apps.commissions.models import SettlementMode
from apps.commissions.services.orders import ORDERS_WAITING_KEY
from apps.core.tasking import (
    PER_ITEM_RESULTS,
    TRANSIENT_RETRY,
    call_with_message_id,
    coalesced_run_start,
    id_from_message,
    renamed_task,
)

logger = logging.getLogger(__name__)

# Settlement runs may wait out a long lock (a concurrent run), so they retry
# longer than the shared default.
LEDGER_RETRY = {**TRANSIENT_RETRY, "retry_backoff_max": 300, "max_retries": 8}


@renamed_task(
    old_name="apps.commissions.tasks.commission_entries_write",
    name=task_names.ORDER_ENTRIES_WRITE, bind=True, **LEDGER_RETRY, **PER_ITEM_RESULTS,
)  # fmt: skip
def order_entries_write_task(self, order_id) -> int:
    """Write an order's missing entries (and its refunds'), then settle what is T+0.

    A new order's worker also takes along later orders still without entries
    (see ``services.order_entries_write``).
    """
    return call_with_message_id(self, services.order_entries_write, order_id=order_id) or 0


@renamed_task(
    old_name="apps.commissions.tasks.commission_entries_write_waiting",
    name=task_names.ORDERS_WAITING_WRITE, bind=True, **LEDGER_RETRY, **PER_ITEM_RESULTS,
)  # fmt: skip
def orders_waiting_write_task(self, from_order_id) -> int:
    """Write and settle new orders' entries: one run for the orders committed before it started."""
    coalesced_run_start(ORDERS_WAITING_KEY)
    written = call_with_message_id(self, services.orders_waiting_write, from_order_id=from_order_id)
    return written or 0


@shared_task(name=task_names.ORDERS_ENTRIES_WRITE, bind=True, **LEDGER_RETRY, **PER_ITEM_RESULTS)
def orders_entries_write_task(self, order_ids) -> int:
    """Write the missing entries of several orders (a batch of refunds), then settle what is T+0."""
    if not isinstance(order_ids, list):
        logger.error("%s: dropping malformed message %r", self.name, order_ids)
        return 0
    valid = [
        order_id
        for order_id in order_ids
        if id_from_message(order_id, task=self.name, field="order_ids") is not None
    ]
    return services.orders_entries_write(order_ids=valid)


@shared_task(
    name=task_names.MEMBER_ORDERS_REATTRIBUTE, bind=True, **LEDGER_RETRY, **PER_ITEM_RESULTS
)
def member_orders_reattribute_task(self, membership_ids) -> int:
    """Attribute again the open orders of members whose binding just landed."""
    if not isinstance(membership_ids, list):
        logger.error("%s: dropping malformed message %r", self.name, membership_ids)
        return 0
    ids = [
        id_from_message(value, task=self.name, field="membership_ids") for value in membership_ids
    ]
    return services.member_orders_reattribute(membership_ids=[pk for pk in ids if pk is not None])


@renamed_task(
    old_name="apps.commissions.tasks.settlement_run_nightly",
    name=task_names.SETTLEMENT_RUN_NIGHTLY, **LEDGER_RETRY,
)  # fmt: skip
def settlement_run_nightly(run_date: str | None = None) -> int:
    """Settle T+1 / T+N entries due today; returns the number of settlements written."""
    day = _parse_date(run_date)
    if day is None:
        return 0
    modes = [SettlementMode.T0, SettlementMode.T1, SettlementMode.TN]
    return services.settlement_run(run_date=day, modes=modes).settlement_count


@renamed_task(
    old_name="apps.commissions.tasks.settlement_run_monthly",
    name=task_names.SETTLEMENT_RUN_MONTHLY, **LEDGER_RETRY,
)  # fmt: skip
def settlement_run_monthly(run_date: str | None = None) -> int:
    """Settle the previous month's monthly entries."""
    day = _parse_date(run_date)
    if day is None:
        return 0
    day = month_bounds(day)[0]
    return services.settlement_run(run_date=day, modes=[SettlementMode.MONTHLY]).settlement_count


def _parse_date(value) -> dt.date | None:
    if value is None:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        logger.error("settlement run: dropping malformed date %r", value)
        return None

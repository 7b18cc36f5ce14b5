"""Celery entry points: take ids, call a service, retry only what is transient."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from apps.commissions import services
from apps.commissions.calculations import month_bounds
from apps.commissions.models import SettlementMode
from apps.core.tasking import (
    PER_ITEM_RESULTS,
    TRANSIENT_RETRY,
    coalesced_run_start,
    id_from_message,
)

logger = logging.getLogger(__name__)

# Settlement runs may wait out a long lock (a concurrent run), so they retry
# longer than the shared default.
LEDGER_RETRY = {**TRANSIENT_RETRY, "retry_backoff_max": 300, "max_retries": 8}


@shared_task(
    name="apps.commissions.tasks.commission_entries_write", **LEDGER_RETRY, **PER_ITEM_RESULTS
)
def commission_entries_write(order_id) -> int:
    """Write an order's missing entries (and its refunds'), then settle what is T+0.

    A new order's worker also takes along later orders still without entries
    (see ``commission_entries_write_with_backlog``).
    """
    if id_from_message(order_id, task="commission_entries_write", field="order_id") is None:
        return 0
    return services.commission_entries_write_with_backlog(order_id=order_id)


@shared_task(
    name="apps.commissions.tasks.commission_entries_write_waiting",
    **LEDGER_RETRY,
    **PER_ITEM_RESULTS,
)
def commission_entries_write_waiting_task(from_order_id) -> int:
    """Write and settle new orders' entries: one run for the orders committed before it started."""
    coalesced_run_start(services.ENTRY_WAITING_KEY)
    order_id = id_from_message(
        from_order_id, task="commission_entries_write_waiting", field="from_order_id"
    )
    return (
        0 if order_id is None else services.commission_entries_write_waiting(from_order_id=order_id)
    )


@shared_task(name="apps.commissions.tasks.settlement_run_nightly", **LEDGER_RETRY)
def settlement_run_nightly(run_date: str | None = None) -> int:
    """Settle T+1 / T+N entries due today; returns the number of settlements written."""
    day = _parse_date(run_date)
    if day is None:
        return 0
    modes = [SettlementMode.T0, SettlementMode.T1, SettlementMode.TN]
    return services.settlement_run(run_date=day, modes=modes).settlement_count


@shared_task(name="apps.commissions.tasks.settlement_run_monthly", **LEDGER_RETRY)
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

"""The commission events HQ's systems subscribe to: order.attributed, settlement.closed/paid.

Each is recorded in the transaction of the change (``apps.core.webhooks``).
Amounts are decimal strings in CNY; dates are local calendar dates.
"""

from apps.commissions.models import Order, Settlement
from apps.core.models import WebhookEventType
from apps.core.webhooks import webhook_event_types_wanted, webhook_events_record


def order_attributed_record(order: Order) -> int:
    """Record ``order.attributed`` for ``order`` (just written or attributed again)."""
    return orders_attributed_record([order])


def orders_attributed_record(orders: list[Order]) -> int:
    """Record ``order.attributed`` for each of ``orders`` (one read of them all)."""
    if not orders or WebhookEventType.ORDER_ATTRIBUTED not in webhook_event_types_wanted():
        return 0
    rows = Order.objects.select_related("brand", "store", "guide", "attributed_guide").filter(
        pk__in=[order.pk for order in orders]
    )
    return webhook_events_record(
        WebhookEventType.ORDER_ATTRIBUTED,
        [
            {
                "order_no": order.order_no,
                "brand": order.brand.code,
                "store": order.store.code,
                "guide": order.guide.employee_no if order.guide_id else None,
                "attributed_guide": (
                    order.attributed_guide.employee_no if order.attributed_guide_id else None
                ),
                "attribution_reason": order.attribution_reason,
                "amount": str(order.amount),
                "paid_at": order.paid_at,
                "business_date": order.business_date,
            }
            for order in rows.order_by("pk")
        ],
    )


def _settlement_event(settlement: Settlement) -> dict:
    return {
        "settlement_id": settlement.pk,
        "brand": settlement.brand.code,
        "beneficiary": settlement.beneficiary,
        "store": settlement.store.code,
        "guide": settlement.guide.employee_no if settlement.guide_id else None,
        "mode": settlement.mode,
        "period_start": settlement.period_start,
        "period_end": settlement.period_end,
        "entries_total": str(settlement.entries_total),
        "carried_forward": str(settlement.carried_forward),
        "total": str(settlement.total),
        "status": settlement.status,
        "payout_ref": settlement.payout_ref,
        "paid_at": settlement.paid_at,
    }


def settlements_event_record(event_type: str, settlements) -> int:
    """Record ``event_type`` for each settlement of the queryset ``settlements``."""
    if event_type not in webhook_event_types_wanted():
        return 0
    rows = settlements.select_related("brand", "store", "guide").order_by("pk")
    return webhook_events_record(event_type, [_settlement_event(s) for s in rows])

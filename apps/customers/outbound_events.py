"""The member events HQ's systems subscribe to (``member.assigned``, ``member.reassigned``).

Recorded from the assignment log in the transaction that moves the members,
so an event exists exactly when its move committed. The object carries ids
and codes, no personal data: a receiver reads the member through the API.
"""

import datetime as dt
from collections.abc import Iterable

from apps.core.models import WebhookEventType
from apps.core.webhooks import webhook_event_types_wanted, webhook_events_record
from apps.customers.models import AssignmentEvent


def _member_event(event: AssignmentEvent) -> dict:
    membership = event.membership
    return {
        "member_id": event.membership_id,
        "brand": membership.brand.code,
        "store": event.to_store.code if event.to_store_id else None,
        "guide": event.to_guide.employee_no if event.to_guide_id else None,
        "previous_store": event.from_store.code if event.from_store_id else None,
        "previous_guide": event.from_guide.employee_no if event.from_guide_id else None,
        "reason": event.reason,
        "bound_at": membership.bound_at,
    }


def member_events_record(*, membership_ids: Iterable[int], since: dt.datetime) -> int:
    """Record the member events of the moves of ``membership_ids`` logged from ``since`` on."""
    wanted = webhook_event_types_wanted() & {
        WebhookEventType.MEMBER_ASSIGNED,
        WebhookEventType.MEMBER_REASSIGNED,
    }
    if not wanted:
        return 0
    moves = (
        AssignmentEvent.objects.filter(
            membership_id__in=list(membership_ids), created_at__gte=since
        )
        .select_related("membership__brand", "to_store", "to_guide", "from_store", "from_guide")
        .order_by("pk")
    )
    assigned, reassigned = [], []
    for move in moves:
        (reassigned if move.from_store_id else assigned).append(_member_event(move))
    recorded = 0
    if WebhookEventType.MEMBER_ASSIGNED in wanted and assigned:
        recorded += webhook_events_record(WebhookEventType.MEMBER_ASSIGNED, assigned)
    if WebhookEventType.MEMBER_REASSIGNED in wanted and reassigned:
        recorded += webhook_events_record(WebhookEventType.MEMBER_REASSIGNED, reassigned)
    return recorded

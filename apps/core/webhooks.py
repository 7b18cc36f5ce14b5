"""Events pushed out to HQ's systems: recorded with the change, signed, delivered at least once.

A service that changes something an outside system follows calls
``webhook_events_record`` inside its own transaction: the event row and one
delivery row per subscribed endpoint commit or roll back with the change (an
outbox), so a crash never loses an event nor invents one. A worker then posts
each delivery (``webhook_deliveries_send``, queued on commit and run by beat
every minute for retries), signed with the endpoint's secret:

    X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

A failed try is repeated with exponential backoff for
``WEBHOOK_RETRY_HOURS`` (24) hours, then given up; an endpoint whose
deliveries have failed for that long is disabled, and HQ's dashboard says so.
Receivers de-duplicate on the event ``id`` (a delivery whose answer was lost
is sent again).
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookEventType
from apps.core.tasking import task_enqueue, task_enqueue_coalesced

logger = logging.getLogger(__name__)

WEBHOOKS_SEND = "core.webhook_deliveries_send"
WEBHOOKS_SEND_KEY = "coalesce:core.webhook_deliveries_send"
SIGNATURE_HEADER = "X-Signature"
# Deliveries claimed per round; a claim is a lease, so a worker that dies
# mid-round leaves its deliveries to be tried again once the lease is over.
SEND_BATCH = 100
CLAIM_LEASE = dt.timedelta(minutes=2)
SEND_TIMEOUT_SECONDS = 10
BACKOFF_MAX = dt.timedelta(hours=1)
EVENT_TYPES = frozenset(WebhookEventType.values)


def _retry_window() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "WEBHOOK_RETRY_HOURS", 24))


def _backoff(attempts: int) -> dt.timedelta:
    """Return the wait after ``attempts`` failed tries: base·2^(n-1), at most an hour."""
    base = getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30)
    return min(dt.timedelta(seconds=base * 2 ** min(max(attempts - 1, 0), 20)), BACKOFF_MAX)


def webhook_secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_endpoint_create(*, url: str, events: list[str], description: str = "") -> tuple:
    """Register an endpoint; return it and its secret (shown once, never again)."""
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {unknown}")
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        url=url, events=sorted(set(events)), description=description, secret=secret
    )
    return endpoint, secret


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """Give ``endpoint`` a new secret and return it (shown once)."""
    endpoint.secret = webhook_secret_new()
    endpoint.save(update_fields=["secret"])
    return endpoint.secret


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    """Enable an endpoint again; deliveries still pending are tried at once."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=True, failing_since=None, disabled_at=None, disabled_reason=""
    )
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )
    task_enqueue_coalesced(WEBHOOKS_SEND, key=WEBHOOKS_SEND_KEY)


def webhook_event_types_wanted() -> set[str]:
    """Return the event types some active endpoint subscribes to (one small query)."""
    return {
        event_type
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
        for event_type in events
    }


def webhook_events_record(event_type: str, objects: Iterable[dict]) -> int:
    """Record one event per object for the endpoints subscribed to ``event_type``.

    Call it inside the transaction of the change. Costs one query when no
    endpoint subscribes. Returns how many events were recorded.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).only("pk", "events")
        if event_type in endpoint.events
    ]
    if not endpoints:
        return 0
    now = timezone.now()
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(event_id=uuid.uuid4(), type=event_type, occurred_at=now, data=data)
            for data in objects
        ]
    )
    if not events:
        return 0
    if events[0].pk is None:  # backends that return no ids from a bulk insert
        events = list(WebhookEvent.objects.filter(event_id__in=[e.event_id for e in events]))
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now)
            for event in events
            for endpoint in endpoints
        ]
    )
    task_enqueue_coalesced(WEBHOOKS_SEND, key=WEBHOOKS_SEND_KEY)
    return len(events)


def webhook_body(event: WebhookEvent) -> bytes:
    """Return the JSON body posted for ``event``: id, type, time and the object."""
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.type,
            "created_at": event.occurred_at,
            "data": event.data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``X-Signature`` value: ``t=<timestamp>,v1=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _claim_due(now: dt.datetime) -> list[int]:
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__is_active=True,
            )
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:SEND_BATCH]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + CLAIM_LEASE)
    return ids


def webhook_deliveries_send() -> int:
    """Post every due delivery; return how many were delivered.

    Deliveries are claimed in short transactions (a lease on their next try)
    and posted outside any transaction, so a slow receiver holds no lock.
    """
    delivered = 0
    while True:
        ids = _claim_due(timezone.now())
        if not ids:
            return delivered
        for delivery in WebhookDelivery.objects.filter(pk__in=ids).select_related(
            "endpoint", "event"
        ):
            delivered += webhook_delivery_attempt(delivery=delivery)


def webhook_delivery_attempt(*, delivery: WebhookDelivery) -> bool:
    """Post ``delivery`` once and record the answer; return whether it was delivered."""
    body = webhook_body(delivery.event)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - HQ registers http(s) URLs only (URLField)
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "guide-scrm-webhooks/1",
            SIGNATURE_HEADER: webhook_signature(
                secret=delivery.endpoint.secret, timestamp=timestamp, body=body
            ),
            "X-Webhook-Id": str(delivery.event.event_id),
            "X-Webhook-Event": delivery.event.type,
        },
    )
    started = time.monotonic()
    status_code, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as response:  # noqa: S310
            status_code = response.status
    except urllib.error.HTTPError as exc:
        status_code, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:500]
    latency_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    _attempt_record(delivery, ok=ok, status_code=status_code, latency_ms=latency_ms, error=error)
    return ok


def _attempt_record(delivery, *, ok: bool, status_code, latency_ms: int, error: str) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    fields = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": now,
        "last_status_code": status_code,
        "last_latency_ms": latency_ms,
        "last_error": error,
    }
    if ok:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, next_attempt_at=None)
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)
    elif now - delivery.created_at >= _retry_window():
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        fields["next_attempt_at"] = now + _backoff(attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if not ok:
        _endpoint_failure_record(delivery.endpoint_id, now)
        if fields.get("next_attempt_at"):
            # Beat's minute run catches this one should its message be lost.
            task_enqueue(WEBHOOKS_SEND, countdown=_backoff(attempts).total_seconds())


def _endpoint_failure_record(endpoint_id: int, now: dt.datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    WebhookEndpoint.objects.filter(
        pk=endpoint_id, is_active=True, failing_since__lte=now - _retry_window()
    ).update(
        is_active=False,
        disabled_at=now,
        disabled_reason="Every delivery failed for 24 hours.",
    )


def webhook_delivery_send_again(*, delivery_ids: Iterable[int]) -> int:
    """Queue deliveries again (HQ's "send again"), whatever their status; return how many."""
    count = WebhookDelivery.objects.filter(pk__in=list(delivery_ids)).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    task_enqueue_coalesced(WEBHOOKS_SEND, key=WEBHOOKS_SEND_KEY)
    return count


def webhook_endpoints_disabled() -> list[WebhookEndpoint]:
    """Return the endpoints disabled after failing (for HQ's dashboard)."""
    return list(WebhookEndpoint.objects.filter(is_active=False, disabled_at__isnull=False))


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url: str, events: list[str], description: str, is_active: bool
) -> WebhookEndpoint:
    """Change an endpoint's URL, events or description; enabling it again retries its backlog."""
    unknown = sorted(set(events) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {unknown}")
    was_active = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).exists()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=url, events=sorted(set(events)), description=description, is_active=is_active
    )
    if is_active and not was_active:
        webhook_endpoint_enable(endpoint=endpoint)
    endpoint.refresh_from_db()
    return endpoint

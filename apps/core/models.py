"""The ground floor's tables: heartbeats, task messages the broker did not take or that
killed their worker, sessions."""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """A row written by a worker on beat's schedule: proof the queue is moving."""

    source = models.CharField(_("source"), max_length=50)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.source} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class OutboxMessage(models.Model):
    """A task message the broker refused (an outage): kept here until it is sent.

    Written by ``apps.core.tasking`` when sending fails after the work's own
    transaction committed, and sent again by ``outbox_drain`` (beat's "Outbox
    drain" and every worker start). Tasks are idempotent, so a message sent
    twice does no harm. A coalesced run is kept once per ``coalesce_key``.
    """

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    coalesce_key = models.CharField(
        _("coalescing key"), max_length=200, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("attempts to send"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("unsent task message")
        verbose_name_plural = _("unsent task messages")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.task}{tuple(self.args)!r}"


class UserSession(AbstractBaseSession):
    """A login session (Django's database session) that knows whose it is.

    Django's own session table keys rows by session key only, so a user's
    sessions could be found only by decoding every row; with the user on the
    row, ending someone's access ends their sessions in one statement
    (``apps.core.access``). Written by ``apps.core.sessions.SessionStore``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")

    @classmethod
    def get_session_store_class(cls):
        from apps.core.sessions import SessionStore

        return SessionStore


class WebhookEventType(models.TextChoices):
    MEMBER_ASSIGNED = "member.assigned", _("member.assigned: a member is bound for the first time")
    MEMBER_REASSIGNED = "member.reassigned", _("member.reassigned: a member moves store or guide")
    ORDER_ATTRIBUTED = "order.attributed", _("order.attributed: an order's earning guide is set")
    SETTLEMENT_CLOSED = "settlement.closed", _("settlement.closed: a settlement is closed")
    SETTLEMENT_PAID = "settlement.paid", _("settlement.paid: HQ paid a settlement out")


class WebhookEndpoint(models.Model):
    """An HQ-registered URL that receives signed events (``apps.core.webhooks``)."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(
        _("events"), default=list, help_text=_("The event types sent to this endpoint.")
    )
    # HMAC needs the secret itself, so it is kept, but shown only once (on creation).
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]

    def __str__(self):
        return self.url


class WebhookEvent(models.Model):
    """An event, written in the transaction of the change that causes it (the outbox)."""

    event_id = models.UUIDField(_("event id"), unique=True, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=WebhookEventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    data = models.JSONField(_("object"), encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-pk"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: tried until it succeeds or 24 hours have passed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last try"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


class DeadLetter(models.Model):
    """A task message parked after its worker died running it too many times.

    Tasks are acknowledged when they end (``acks_late``), so a message whose
    worker is killed (out of memory, a crash in a C library) goes back to the
    queue: one that kills its worker every time would loop forever. Past
    ``TASK_MAX_DELIVERIES`` deliveries ``apps.core.taskbase`` parks it here
    instead of running it again; HQ retries it (once the cause is fixed) or
    discards it, and the row stays as the record of what happened.
    """

    class Status(models.TextChoices):
        PARKED = "parked", _("Parked")
        RETRIED = "retried", _("Retried")
        DISCARDED = "discarded", _("Discarded")

    task_id = models.CharField(_("task id"), max_length=64, unique=True)
    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    kwargs = models.JSONField(_("keyword arguments"), default=dict)
    queue = models.CharField(_("queue"), max_length=200, blank=True)
    deliveries = models.PositiveIntegerField(_("deliveries"))
    error = models.TextField(_("error"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PARKED
    )
    parked_at = models.DateTimeField(_("parked at"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("parked task message")
        verbose_name_plural = _("parked task messages")
        ordering = ["-parked_at"]
        permissions = [("resolve_deadletter", _("Can retry or discard parked task messages"))]
        constraints = [
            models.CheckConstraint(
                name="core_deadletter_resolved_when_not_parked",
                condition=(
                    models.Q(status="parked", resolved_at__isnull=True)
                    | (~models.Q(status="parked") & models.Q(resolved_at__isnull=False))
                ),
            ),
        ]

    def __str__(self):
        return f"{self.task}{tuple(self.args)!r} [{self.task_id}]"

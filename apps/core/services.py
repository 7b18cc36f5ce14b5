"""Writes of the ground floor: the heartbeat, parked task messages."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import DeadLetter, Heartbeat
from apps.core.tasking import BROKER_ERRORS, task_send_now


def heartbeat_record(*, source: str) -> Heartbeat:
    """Write a heartbeat row, pruning all but the latest thousand."""
    heartbeat = Heartbeat.objects.create(source=source[:50])
    stale = Heartbeat.objects.order_by("-created_at").values_list("pk", flat=True)[1000:1001]
    if stale:
        Heartbeat.objects.filter(pk__lte=stale[0]).delete()
    return heartbeat


def dead_letter_park(
    *, task_id: str, task: str, args, kwargs, queue: str, deliveries: int, error: str
) -> DeadLetter:
    """Record a message taken out of circulation; parking one message twice keeps the first row."""
    dead_letter, _created = DeadLetter.objects.get_or_create(
        task_id=task_id,
        defaults={
            "task": task[:200],
            "args": list(args) if isinstance(args, list | tuple) else [repr(args)],
            "kwargs": dict(kwargs) if isinstance(kwargs, dict) else {"value": repr(kwargs)},
            "queue": (queue or "")[:200],
            "deliveries": deliveries,
            "error": error,
        },
    )
    return dead_letter


def dead_letter_retry(*, dead_letter_id: int, actor) -> DeadLetter:
    """Send a parked message again as a new message, and mark it retried by ``actor``.

    The message goes out before the row is marked, in the row's lock: when
    the broker refuses it the row stays parked and the caller hears why.
    Should the mark be lost after the send, the task is idempotent.
    """
    with transaction.atomic():
        dead_letter = _dead_letter_lock_parked(dead_letter_id)
        try:
            task_send_now(dead_letter.task, tuple(dead_letter.args), dead_letter.kwargs)
        except BROKER_ERRORS as exc:
            raise ValidationError(
                _("The task queue is unavailable (%(error)s); try again shortly.") % {"error": exc}
            ) from exc
        except KeyError as exc:
            raise ValidationError(
                _("No task named %(task)s exists in this release; discard the message.")
                % {"task": dead_letter.task}
            ) from exc
        return _dead_letter_resolve(dead_letter, DeadLetter.Status.RETRIED, actor)


def dead_letter_discard(*, dead_letter_id: int, actor) -> DeadLetter:
    """Mark a parked message discarded by ``actor``: it is never run."""
    with transaction.atomic():
        dead_letter = _dead_letter_lock_parked(dead_letter_id)
        return _dead_letter_resolve(dead_letter, DeadLetter.Status.DISCARDED, actor)


def _dead_letter_lock_parked(dead_letter_id: int) -> DeadLetter:
    dead_letter = DeadLetter.objects.select_for_update().filter(pk=dead_letter_id).first()
    if dead_letter is None or dead_letter.status != DeadLetter.Status.PARKED:
        raise ValidationError(_("This message is no longer parked."))
    return dead_letter


def _dead_letter_resolve(dead_letter: DeadLetter, status: str, actor) -> DeadLetter:
    dead_letter.status = status
    dead_letter.resolved_at = timezone.now()
    dead_letter.resolved_by = actor
    dead_letter.save(update_fields=["status", "resolved_at", "resolved_by"])
    return dead_letter

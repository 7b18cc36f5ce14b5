"""The one routing table of Celery tasks to queues.

Each queue is consumed by its own worker group (the Procfile), so a kind of
work can only ever wait behind work of the same kind: a member who joins while
the nightly settlement runs for minutes is assigned by the ``assignment``
workers, which never take a settlement message. Tasks are named by their
registered names (each app's ``task_names``), as in ``apps.core.schedules``,
so this module imports no app. A task missing from the table goes to
``default``; ``tests/core/test_queues.py`` makes every task declare its queue.
"""

from django.conf import settings

ASSIGNMENT = "assignment"
LEDGER = "ledger"
SETTLEMENT = "settlement"
NOTIFY = "notify"
DEFAULT = "default"
QUEUES = (ASSIGNMENT, LEDGER, SETTLEMENT, NOTIFY, DEFAULT)

TASK_QUEUES: dict[str, str] = {
    # A member waits for these: the sign-up's own assignment and the sweep
    # that catches a lost one. Short, and many at once on a campaign day.
    "customers.membership_assign": ASSIGNMENT,
    "customers.membership_assign_with_backlog": ASSIGNMENT,
    "customers.memberships_assign_waiting": ASSIGNMENT,
    "customers.memberships_assign_pending": ASSIGNMENT,
    "customers.pending_memberships_sweep": ASSIGNMENT,
    # Moving existing members (a store moved or closed, a guide left) can
    # touch tens of thousands of rows: nobody is waiting for a first guide,
    # so it must not hold up sign-ups.
    "customers.store_members_relocate": DEFAULT,
    "customers.guide_members_handover": DEFAULT,
    "customers.store_unguided_members_assign": DEFAULT,
    # An order's entries (and T+0 settlement): bursts of a big sale day.
    "commissions.order_entries_write": LEDGER,
    "commissions.orders_waiting_write": LEDGER,
    "commissions.orders_entries_write": LEDGER,  # a batch of refunds
    "commissions.member_orders_reattribute": LEDGER,
    # Names of the release before 2026-12, still on queued messages.
    "apps.commissions.tasks.commission_entries_write": LEDGER,
    "apps.commissions.tasks.commission_entries_write_waiting": LEDGER,
    # Minutes of work over a day's or a month's orders.
    "commissions.settlement_run_nightly": SETTLEMENT,
    "commissions.settlement_run_monthly": SETTLEMENT,
    "apps.commissions.tasks.settlement_run_nightly": SETTLEMENT,
    "apps.commissions.tasks.settlement_run_monthly": SETTLEMENT,
    # The month's bonus close: a nightly batch over the month's entries.
    "incentives.bonus_close_run": SETTLEMENT,
    # Points expiry: a daily pass over the accounts of brands whose points expire.
    "incentives.points_expire_run": SETTLEMENT,
    # Daily follow-up generation and the rest of the housekeeping.
    "engagement.follow_ups_create": DEFAULT,
    "engagement.follow_ups_follow_members": DEFAULT,
    "core.heartbeat": DEFAULT,
    "apps.core.tasks.heartbeat": DEFAULT,
    "core.outbox_drain": DEFAULT,
    # The weekly retention run: erases inactive members, brand by brand.
    "engagement.retention_run": DEFAULT,
    # Webhook deliveries. The interactive worker group consumes notify beside
    # assignment; a brand with slow receivers starts a worker of its own on
    # --queues=notify. Text messages to shoppers are sent in the request
    # (apps.core.sms).
    "core.webhook_deliveries_send": NOTIFY,
}


def queue_name(queue: str) -> str:
    """Return the broker's name of ``queue`` (with the tests' private prefix, if any)."""
    return f"{settings.TASK_QUEUE_PREFIX}{queue}"


def task_queue(task_name: str) -> str:
    """Return the queue (unprefixed) that the task registered as ``task_name`` runs on."""
    return TASK_QUEUES.get(task_name, DEFAULT)


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery router (``task_routes``): send each task to its queue of ``TASK_QUEUES``.

    A queue given explicitly when sending (``apply_async(queue=...)``, a beat
    row's queue) still wins.
    """
    return {"queue": queue_name(task_queue(name))}

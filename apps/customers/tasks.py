"""Celery entry points for member assignment: take ids, call a service."""

import logging

from celery import shared_task

from apps.core.tasking import (
    PER_ITEM_RESULTS,
    TRANSIENT_RETRY,
    call_with_message_id,
    coalesced_run_start,
)
from apps.customers import services, task_names

logger = logging.getLogger(__name__)

# A membership still pending this long after joining lost its message: a
# sign-up is assigned within a second or two, and a coalesced run whose
# message was lost is queued again by the next sign-up after 30 seconds
# (apps.core.tasking.COALESCED_KEY_SECONDS). With the sweep every minute
# (apps.core.schedules) a member is assigned at worst two minutes after
# joining, whatever was lost or killed.
STALE_PENDING_SECONDS = 60
# Past this many stale members one run over every waiting member beats a
# message per member.
SWEEP_SINGLE_LIMIT = 500


def _membership_status(task, assign, membership_id) -> str | None:
    """Run ``assign`` for a membership id from a message; return the status it ends in."""
    membership = call_with_message_id(task, assign, membership_id=membership_id)
    if membership is None:
        logger.warning("%s: no membership %r", task.name, membership_id)
        return None
    return membership.assignment_status


@shared_task(bind=True, name=task_names.MEMBERSHIP_ASSIGN, **TRANSIENT_RETRY)
def membership_assign_task(self, membership_id):
    """Assign one pending member (the sweep's way: each member on its own)."""
    return _membership_status(self, services.membership_assign, membership_id)


@shared_task(
    bind=True, name=task_names.MEMBERSHIP_ASSIGN_WITH_BACKLOG, **TRANSIENT_RETRY,
    **PER_ITEM_RESULTS,
)  # fmt: skip
def membership_assign_with_backlog_task(self, membership_id):
    """Assign a new member and, in the same set-based run, others still waiting."""
    return _membership_status(self, services.membership_assign_with_backlog, membership_id)


@shared_task(name=task_names.MEMBERSHIPS_ASSIGN_WAITING, **TRANSIENT_RETRY, **PER_ITEM_RESULTS)
def memberships_assign_waiting_task():
    """Assign every member waiting: one run for the sign-ups committed before it started."""
    coalesced_run_start(services.ASSIGN_WAITING_KEY)
    return services.memberships_assign_waiting()


@shared_task(name=task_names.MEMBERSHIPS_ASSIGN_PENDING, **TRANSIENT_RETRY)
def memberships_assign_pending_task():
    return services.memberships_assign_pending()


@shared_task(name=task_names.PENDING_MEMBERSHIPS_SWEEP, **TRANSIENT_RETRY)
def pending_memberships_sweep_task():
    """Re-queue members whose assignment message was lost."""
    stale = services.pending_memberships_stale(
        older_than_seconds=STALE_PENDING_SECONDS, limit=SWEEP_SINGLE_LIMIT + 1
    )
    if len(stale) > SWEEP_SINGLE_LIMIT:
        # The waiting run takes members batch by batch with SKIP LOCKED, so in
        # a campaign's backlog it works beside the runs already going (and,
        # coalesced, is not queued twice) rather than contend with them.
        services.memberships_waiting_queue()
        return len(stale)
    for membership_id in stale:
        membership_assign_task.delay(membership_id)
    return len(stale)


@shared_task(bind=True, name=task_names.STORE_MEMBERS_RELOCATE, **TRANSIENT_RETRY)
def store_members_relocate_task(self, store_id):
    return call_with_message_id(self, services.store_members_relocate, store_id=store_id)


@shared_task(bind=True, name=task_names.GUIDE_MEMBERS_HANDOVER, **TRANSIENT_RETRY)
def guide_members_handover_task(self, guide_id):
    return call_with_message_id(self, services.guide_members_handover, guide_id=guide_id)


@shared_task(bind=True, name=task_names.STORE_UNGUIDED_MEMBERS_ASSIGN, **TRANSIENT_RETRY)
def store_unguided_members_assign_task(self, store_id):
    return call_with_message_id(self, services.store_unguided_members_assign, store_id=store_id)

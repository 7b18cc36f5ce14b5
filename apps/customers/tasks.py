"""Celery entry points for member assignment: take ids, call a service."""

import logging

from celery import shared_task

from apps.core.tasking import (
    PER_ITEM_RESULTS,
    TRANSIENT_RETRY,
    coalesced_run_start,
    id_from_message,
)
from apps.customers import services

logger = logging.getLogger(__name__)

# A membership still pending this long after joining lost its message.
STALE_PENDING_SECONDS = 5 * 60
# Past this many stale members one bulk run beats a message per member.
SWEEP_SINGLE_LIMIT = 500


@shared_task(name="customers.membership_assign", **TRANSIENT_RETRY)
def membership_assign_task(membership_id):
    membership_id = id_from_message(membership_id, task="membership_assign", field="membership_id")
    if membership_id is None:
        return None
    membership = services.membership_assign(membership_id=membership_id)
    if membership is None:
        logger.warning("membership_assign: membership %s does not exist", membership_id)
        return None
    return membership.assignment_status


@shared_task(name="customers.membership_assign_with_backlog", **TRANSIENT_RETRY, **PER_ITEM_RESULTS)
def membership_assign_with_backlog_task(membership_id):
    """Assign a new member and, in the same set-based run, others still waiting."""
    membership_id = id_from_message(
        membership_id, task="membership_assign_with_backlog", field="membership_id"
    )
    if membership_id is None:
        return None
    membership = services.membership_assign_with_backlog(membership_id=membership_id)
    if membership is None:
        logger.warning("membership_assign_with_backlog: no membership %s", membership_id)
        return None
    return membership.assignment_status


@shared_task(name="customers.memberships_assign_waiting", **TRANSIENT_RETRY, **PER_ITEM_RESULTS)
def memberships_assign_waiting_task():
    """Assign every member waiting: one run for the sign-ups committed before it started."""
    coalesced_run_start(services.ASSIGN_WAITING_KEY)
    return services.memberships_assign_waiting()


@shared_task(name="customers.memberships_assign_pending", **TRANSIENT_RETRY)
def memberships_assign_pending_task():
    return services.memberships_assign_pending()


@shared_task(name="customers.pending_memberships_sweep", **TRANSIENT_RETRY)
def pending_memberships_sweep_task():
    """Re-queue members whose assignment message was lost."""
    stale = services.pending_memberships_stale(
        older_than_seconds=STALE_PENDING_SECONDS, limit=SWEEP_SINGLE_LIMIT + 1
    )
    if len(stale) > SWEEP_SINGLE_LIMIT:
        memberships_assign_pending_task.delay()
        return len(stale)
    for membership_id in stale:
        membership_assign_task.delay(membership_id)
    return len(stale)


@shared_task(name="customers.store_members_relocate", **TRANSIENT_RETRY)
def store_members_relocate_task(store_id):
    store_id = id_from_message(store_id, task="store_members_relocate", field="store_id")
    return None if store_id is None else services.store_members_relocate(store_id=store_id)


@shared_task(name="customers.guide_members_handover", **TRANSIENT_RETRY)
def guide_members_handover_task(guide_id):
    guide_id = id_from_message(guide_id, task="guide_members_handover", field="guide_id")
    return None if guide_id is None else services.guide_members_handover(guide_id=guide_id)


@shared_task(name="customers.store_unguided_members_assign", **TRANSIENT_RETRY)
def store_unguided_members_assign_task(store_id):
    store_id = id_from_message(store_id, task="store_unguided_members_assign", field="store_id")
    if store_id is None:
        return None
    return services.store_unguided_members_assign(store_id=store_id)

"""Follow-ups answer the events of the floors below with work (connected in ``ready``)."""

from apps.core.tasking import task_enqueue
from apps.engagement import task_names


def guide_left_move_follow_ups(sender, *, guide_id: int, **kwargs) -> None:
    task_enqueue(task_names.FOLLOW_UPS_FOLLOW_MEMBERS, guide_id)


# Synchronous, in the transaction of the withdrawal or erasure: a guide must
# not open a follow-up of a member who has just said no.
def membership_consent_withdrawn_stop_follow_ups(sender, *, membership_id: int, **kwargs) -> None:
    from apps.engagement.services import member_follow_ups_stop

    member_follow_ups_stop(membership_id=membership_id)


def membership_erased_scrub(sender, *, membership_id: int, **kwargs) -> None:
    from apps.engagement.services import member_engagement_erase

    member_engagement_erase(membership_id=membership_id)

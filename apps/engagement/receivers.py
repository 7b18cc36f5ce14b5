"""Follow-ups answer the events of the floors below with work (connected in ``ready``)."""

from apps.core.tasking import task_enqueue
from apps.engagement import task_names


def guide_left_move_follow_ups(sender, *, guide_id: int, **kwargs) -> None:
    task_enqueue(task_names.FOLLOW_UPS_FOLLOW_MEMBERS, guide_id)

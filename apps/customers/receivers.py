"""Members follow changes of stores and guides: the events of the apps below, answered with work.

Connected in ``CustomersConfig.ready``. Each receiver only queues a task; the
task calls the service that moves the members.
"""

from apps.core.tasking import task_enqueue
from apps.customers import task_names


def store_closed_relocate_members(sender, *, store_id: int, **kwargs) -> None:
    task_enqueue(task_names.STORE_MEMBERS_RELOCATE, store_id)


def guide_left_hand_over_members(sender, *, guide_id: int, **kwargs) -> None:
    task_enqueue(task_names.GUIDE_MEMBERS_HANDOVER, guide_id)


def guide_available_take_unguided_members(sender, *, store_id: int, **kwargs) -> None:
    task_enqueue(task_names.STORE_UNGUIDED_MEMBERS_ASSIGN, store_id)

"""Orders follow the members' bindings: the customers app's events, answered with work.

Connected in ``CommissionsConfig.ready``. Each receiver only queues a task;
the task calls the service that attributes the orders again.
"""

from apps.commissions import task_names
from apps.core.tasking import task_enqueue

# One message re-attributes the open orders of at most this many members: a
# bulk assignment of a hundred thousand members queues a hundred messages,
# each one query and the few orders it finds.
REATTRIBUTE_BATCH = 1_000


def membership_bound_reattribute_orders(sender, *, membership_ids: list[int], **kwargs) -> None:
    for start in range(0, len(membership_ids), REATTRIBUTE_BATCH):
        task_enqueue(
            task_names.MEMBER_ORDERS_REATTRIBUTE,
            list(membership_ids[start : start + REATTRIBUTE_BATCH]),
        )


def membership_erased_pseudonymise_orders(
    sender, *, brand_id: int, phone: str, pseudonym: str, **kwargs
) -> None:
    # Synchronous, unlike the receivers above: the erasure commits whole or not at all.
    from apps.commissions.services import orders_member_phone_pseudonymise

    orders_member_phone_pseudonymise(brand_id=brand_id, phone=phone, pseudonym=pseudonym)

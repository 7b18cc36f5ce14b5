"""The base class of every Celery task: a message that keeps killing its worker is parked.

Tasks are ``acks_late`` with ``reject_on_worker_lost``: when the process
running a task dies (SIGKILL, the kernel's out-of-memory killer, a crash in
a C library) the message goes back to the queue and is delivered again. The
broker marks such a message ``redelivered``; each redelivery is counted in
Redis under the message's id (a first delivery costs nothing), and a message
delivered more than ``TASK_MAX_DELIVERIES`` times is not run again but
parked in ``DeadLetter`` for HQ to retry or discard (the admin's "Parked
task messages"). A worker shut down cold hands its message back the same
way, so the cap leaves room for a deploy or two in between.
"""

import logging

from celery import Task
from django.conf import settings

logger = logging.getLogger(__name__)

DELIVERY_COUNT_KEY = "scrm:task-deliveries:{task_id}"
# Longer than any stretch of redeliveries: each waits at most the visibility timeout.
DELIVERY_COUNT_SECONDS = 2 * 24 * 3600


class ParkingTask(Task):
    """Run the task, unless its message has been delivered too often: then park it."""

    def __call__(self, *args, **kwargs):
        request = self.request
        if not request.is_eager and (request.delivery_info or {}).get("redelivered"):
            deliveries = self._deliveries_so_far(request.id)
            if deliveries is not None and deliveries > settings.TASK_MAX_DELIVERIES:
                self._park(args, kwargs, deliveries)
                return None
        return super().__call__(*args, **kwargs)

    def _deliveries_so_far(self, task_id: str) -> int | None:
        """Count this delivery; return the deliveries of the message so far (None: unknown)."""
        key = DELIVERY_COUNT_KEY.format(task_id=task_id)
        try:
            with self.app.pool.acquire(block=True) as connection:
                client = connection.default_channel.client
                redeliveries, _expiry = client.pipeline().incr(key).expire(
                    key, DELIVERY_COUNT_SECONDS
                ).execute()  # fmt: skip
        except Exception:  # not Redis, or Redis away: run the task as before
            logger.warning("%s[%s]: could not count its deliveries", self.name, task_id,
                           exc_info=True)  # fmt: skip
            return None
        return int(redeliveries) + 1

    def _park(self, args, kwargs, deliveries: int) -> None:
        from apps.core.services import dead_letter_park  # the app registry is ready by now

        request = self.request
        error = (
            f"WorkerLostError: delivered {deliveries} times, never finished: the worker "
            f"running it died each time (killed, out of memory, or shut down cold). "
            f"Parked past TASK_MAX_DELIVERIES={settings.TASK_MAX_DELIVERIES}."
        )
        dead_letter_park(
            task_id=request.id, task=self.name, args=args, kwargs=kwargs,
            queue=(request.delivery_info or {}).get("routing_key") or "",
            deliveries=deliveries, error=error,
        )  # fmt: skip
        logger.error("%s[%s] parked: %s", self.name, request.id, error)

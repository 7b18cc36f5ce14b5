"""Celery entry points of the incentives app."""

from celery import shared_task

from apps.core.tasking import TRANSIENT_RETRY
from apps.incentives import services, task_names


@shared_task(name=task_names.BONUS_CLOSE_RUN, **TRANSIENT_RETRY)
def bonus_close_run_task() -> int:
    """Close the months due and write the bonus changes refunds made; idempotent."""
    return len(services.bonus_close_run())


@shared_task(name=task_names.POINTS_EXPIRE_RUN, **TRANSIENT_RETRY)
def points_expire_run_task() -> int:
    """Write the points expiries due today; idempotent (each account and month once)."""
    return sum(result.movements for result in services.points_expire_run())

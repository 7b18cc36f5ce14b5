"""Celery entry points of the incentives app."""

from celery import shared_task

from apps.core.tasking import TRANSIENT_RETRY
from apps.incentives import services, task_names


@shared_task(name=task_names.BONUS_CLOSE_RUN, **TRANSIENT_RETRY)
def bonus_close_run_task() -> int:
    """Close the months due and write the bonus changes refunds made; idempotent."""
    return len(services.bonus_close_run())

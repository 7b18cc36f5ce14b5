"""Celery entry points of engagement: take ids, call a service."""

from celery import shared_task

from apps.core.tasking import TRANSIENT_RETRY, call_with_message_id
from apps.engagement import services, task_names


@shared_task(name=task_names.FOLLOW_UPS_CREATE, **TRANSIENT_RETRY)
def follow_ups_create_task():
    """The daily run: make today's follow-up tasks (idempotent)."""
    return services.follow_ups_create()


@shared_task(bind=True, name=task_names.FOLLOW_UPS_FOLLOW_MEMBERS, **TRANSIENT_RETRY)
def follow_ups_follow_members_task(self, guide_id):
    """A guide left: hand over their members, and their open tasks with them."""
    return call_with_message_id(self, services.follow_ups_follow_members, guide_id=guide_id)


@shared_task(name=task_names.RETENTION_RUN, **TRANSIENT_RETRY)
def retention_run_task():
    """The weekly run: erase members past their brand's retention, as last week's report said."""
    return services.retention_run_all()

"""Names of the engagement app's Celery tasks (queued by name through ``apps.core.tasking``)."""

FOLLOW_UPS_CREATE = "engagement.follow_ups_create"
FOLLOW_UPS_FOLLOW_MEMBERS = "engagement.follow_ups_follow_members"
RETENTION_RUN = "engagement.retention_run"

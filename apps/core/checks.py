"""System checks of settings that only fail under load or when a host dies."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.compatibility)
def broker_visibility_check(app_configs, **kwargs):
    """Warn when a running task could be handed out again while it still runs."""
    timeout = getattr(settings, "BROKER_VISIBILITY_TIMEOUT", None)
    limit = getattr(settings, "CELERY_TASK_TIME_LIMIT", None)
    if timeout is None or limit is None or timeout > limit:
        return []
    return [
        Warning(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) is not above the tasks' hard time "
            f"limit ({limit} s): a long task still running on a live worker is handed out "
            "again to another one once unacknowledged that long.",
            hint="Keep it above the time limit (default 35 minutes); shorten it only on a "
            "test stack whose tasks are short.",
            id="core.W001",
        )
    ]

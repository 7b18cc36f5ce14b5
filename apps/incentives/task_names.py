"""Names of the incentives app's Celery tasks (see ``apps.commissions.task_names``)."""

BONUS_CLOSE_RUN = "incentives.bonus_close_run"
POINTS_EXPIRE_RUN = "incentives.points_expire_run"

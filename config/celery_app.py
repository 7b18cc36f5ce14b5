"""Celery application shared by the web process, the workers and beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Every task's base class parks a message that keeps killing its worker
# (apps.core.taskbase); named as a string, it is imported once Django is set up.
app = Celery("guide_scrm", task_cls="apps.core.taskbase:ParkingTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

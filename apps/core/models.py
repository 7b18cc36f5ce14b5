"""The ground floor's one table: heartbeats that prove the queue moves."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """A row written by a worker on beat's schedule: proof the queue is moving."""

    source = models.CharField(_("source"), max_length=50)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.source} @ {self.created_at:%Y-%m-%d %H:%M:%S}"

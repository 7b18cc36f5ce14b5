"""The one table of the benchmarks: rows the anchor endpoint inserts."""

from django.db import models


class AnchorRow(models.Model):
    """A row written by the bare insert endpoint ``bench load`` measures the API against."""

    label = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.label

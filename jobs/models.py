"""When the clock (the sweep) and each worker were last seen alive."""

from django.db import models


class Heartbeat(models.Model):
    """One row per beating process: ``sweep``, or ``worker:<worker id>`` (a new id at each worker start)."""

    name = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.name} (seen {self.seen_at:%Y-%m-%d %H:%M:%S})"

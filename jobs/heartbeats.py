"""Heartbeats: the sweep records one at the end of each run, and each worker one every ``WORKER_BEAT_EVERY``
seconds from a thread of its own (jobs/management/commands/worker.py), whatever task it is running.

They answer two questions: is this worker still alive (may its "running" task be re-queued? jobs/requeue.py),
and did the worker and the sweep run recently (``manage.py check_deployment``)?
"""

import datetime
import logging
import threading

from django.db import connection
from django.utils import timezone

from jobs.models import Heartbeat

logger = logging.getLogger(__name__)

SWEEP = "sweep"
WORKER_PREFIX = "worker:"
WORKER_BEAT_EVERY = 30  # seconds
# A worker silent for this long is gone (killed, or its machine is down): four missed beats.
WORKER_GONE_AFTER = datetime.timedelta(minutes=2)
# Worker ids change at each start: rows of workers gone this long are deleted by the sweep.
FORGET_WORKERS_AFTER = datetime.timedelta(days=1)


def worker_name(worker_id):
    return f"{WORKER_PREFIX}{worker_id}"


def heartbeat_beat(name, now=None):
    """Record that ``name`` is alive: one statement (insert, or update the existing row), whoever else beats."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, seen_at=now or timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["seen_at"],
    )


def live_worker_ids(now):
    names = Heartbeat.objects.filter(name__startswith=WORKER_PREFIX, seen_at__gte=now - WORKER_GONE_AFTER)
    return {name.removeprefix(WORKER_PREFIX) for name in names.values_list("name", flat=True)}


def last_seen(name=None, *, prefix=None):
    """When ``name`` (or the latest of the names starting with ``prefix``) last beat, or None."""
    beats = Heartbeat.objects.filter(name__startswith=prefix) if prefix else Heartbeat.objects.filter(name=name)
    return beats.order_by("-seen_at").values_list("seen_at", flat=True).first()


def heartbeats_prune(now):
    Heartbeat.objects.filter(name__startswith=WORKER_PREFIX, seen_at__lt=now - FORGET_WORKERS_AFTER).delete()


class WorkerHeartbeat(threading.Thread):
    """Beats for one worker until the process ends (a daemon thread: it never keeps the worker alive)."""

    def __init__(self, worker_id, every=WORKER_BEAT_EVERY):
        super().__init__(name="worker-heartbeat", daemon=True)
        self.name_in_db = worker_name(worker_id)
        self.every = every
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                heartbeat_beat(self.name_in_db)
            except Exception:
                # A database blip must not stop the beats: the next one tries again.
                logger.exception("Could not record the worker's heartbeat.")
            finally:
                # This thread's own connection: given back between beats rather than held for ever.
                connection.close()
            self.stopped.wait(self.every)

    def stop(self):
        self.stopped.set()

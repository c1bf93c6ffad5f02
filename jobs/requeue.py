"""Tasks left "running" by a worker that died: django-tasks-db never runs them again by itself.

A task is re-queued (status back to ready: the next free worker runs it) when it has been running for longer than
``TASK_STALE_AFTER`` and the worker that took it (``DBTaskResult.worker_ids[-1]``) has no recent heartbeat. A
worker that is alive keeps its task, however long it takes. ``TASK_STALE_AFTER`` is long next to any task of the
portal (an e-mail, or a batch of 100 invitations over one connection), so a worker started without heartbeats
(plain ``db_worker``) is not second-guessed early either.

Two sweeps at once are harmless: each re-queue is one conditional UPDATE (still running, same start), which only
one of them can win.
"""

import datetime
import logging

from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from jobs.heartbeats import live_worker_ids

logger = logging.getLogger(__name__)

TASK_STALE_AFTER = datetime.timedelta(minutes=10)


def tasks_requeue_orphans(*, now):
    """Re-queue the tasks whose worker died mid-run; return how many."""
    stale = DBTaskResult.objects.running().filter(started_at__lt=now - TASK_STALE_AFTER)
    rows = list(stale.values_list("pk", "started_at", "worker_ids", "task_path"))
    if not rows:
        return 0
    alive = live_worker_ids(now)
    requeued = 0
    for pk, started_at, worker_ids, task_path in rows:
        if worker_ids and worker_ids[-1] in alive:
            continue
        won = DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at).update(
            status=TaskResultStatus.READY
        )
        if won:
            logger.warning("Re-queued task %s (%s): its worker stopped while running it.", pk, task_path)
            requeued += 1
    return requeued

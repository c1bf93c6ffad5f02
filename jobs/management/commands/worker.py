"""``manage.py worker``: django-tasks-db's ``db_worker`` plus a heartbeat.

Same options as ``db_worker`` (``--batch``, ``--queue-name``, ``--interval``, ``--worker-id``, ``--reload``…). The
heartbeat, from a thread of its own every 30 seconds, tells the sweep that this worker is alive, so its running
task is never re-queued behind its back; and it tells ``check_deployment`` that a worker is running.
"""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from jobs.heartbeats import WorkerHeartbeat


class Command(DbWorkerCommand):
    help = "Run the portal's task worker (django-tasks-db's db_worker, with a heartbeat for the sweep)."

    def handle(self, *args, worker_id, batch=False, reload=False, **options):
        # With --reload the work happens in the reloader's child process: only it beats. A --batch run (tests,
        # one-off catch-up) ends when the queue is empty and needs no heartbeat.
        runs_tasks_here = not reload or batch or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if runs_tasks_here and not batch:
            WorkerHeartbeat(worker_id).start()
        super().handle(*args, worker_id=worker_id, batch=batch, reload=reload, **options)

"""The clinic's clock: what ``manage.py sweep`` does once a minute.

1. Re-queue tasks left running by a worker that died (jobs/requeue.py).
2. Queue the reminders that are due (reminders/delivery.py).
3. Raise the day's "inactive" alerts (recovery/inactivity.py).
4. Store each active plan's share of last week's tasks done, for the patients list (recovery/summaries.py): all
   of them from five minutes after midnight, 2,000 a sweep, then those a late change cleared.
5. Tidy up: finished task results, the heartbeats of long-gone workers, reminder records older than 90 days,
   expired sessions (Django's ``clearsessions``, so no cron job of its own), sign-in records (django-axes's access
   log) older than 90 days.
6. Record the sweep's heartbeat, when every step went well (``check_deployment`` reads it).

Safe to run twice at once, e.g. a slow run overlapping the next minute's, or two machines: every write is guarded
by the database (a unique delivery row per patient, day and slot; a unique alert per plan, kind and day; a
conditional UPDATE per re-queued task; plans' rows locked, and skipped by another sweep, while one stores their
last week), so the loser of a race simply does nothing. No lock outlives its transaction, so a killed sweep leaves
none behind. Each step runs on its own: one failing does not stop the others.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.contrib.sessions.models import Session
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.security import sign_in_logs_prune
from jobs.heartbeats import SWEEP, heartbeat_beat, heartbeats_prune
from jobs.requeue import tasks_requeue_orphans
from recovery.inactivity import inactive_alerts_raise
from recovery.summaries import last_week_store_due
from reminders.delivery import deliveries_prune, reminders_queue_due

logger = logging.getLogger(__name__)

# Finished task results are kept this long for whoever investigates a failed e-mail, then deleted.
KEEP_FINISHED_TASKS = datetime.timedelta(days=14)


def finished_tasks_prune(*, now):
    finished = [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED]
    deleted, _ = DBTaskResult.objects.filter(status__in=finished, finished_at__lt=now - KEEP_FINISHED_TASKS).delete()
    heartbeats_prune(now)
    return deleted


def expired_sessions_delete(*, now):
    # Sessions live in the database (cached in Redis in production); an expired row is never read again.
    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted


STEPS = [
    ("tasks re-queued", tasks_requeue_orphans),
    ("reminders queued", reminders_queue_due),
    ("inactive alerts raised", lambda *, now: inactive_alerts_raise(today=timezone.localdate(now))),
    ("plans' last week stored", last_week_store_due),
    ("old task results deleted", finished_tasks_prune),
    ("old reminder records deleted", deliveries_prune),
    ("expired sessions deleted", expired_sessions_delete),
    ("old sign-in records deleted", sign_in_logs_prune),
]


@dataclass
class SweepReport:
    counts: dict = field(default_factory=dict)
    failed: list = field(default_factory=list)

    def __str__(self):
        done = ", ".join(f"{count} {name}" for name, count in self.counts.items())
        return done + (f"; FAILED: {', '.join(self.failed)}" if self.failed else "")


def sweep(*, now=None):
    now = now or timezone.now()
    report = SweepReport()
    for name, step in STEPS:
        try:
            report.counts[name] = step(now=now)
        except Exception:
            logger.exception("The sweep's step %r failed; the next sweep tries again.", name)
            report.failed.append(name)
    if not report.failed:
        heartbeat_beat(SWEEP, now)
    return report

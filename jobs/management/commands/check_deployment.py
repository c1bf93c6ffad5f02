"""``manage.py check_deployment``: is this installation complete? Exits non-zero, saying what is missing, if not.

Run it on the server, with the production environment, after a deployment and from monitoring (docs/DEPLOY.md).
"""

import datetime
import io
from collections import Counter

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.cache import cache
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, SystemCheckError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Exists, OuterRef
from django.tasks import task_backends
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from jobs.heartbeats import SWEEP, WORKER_GONE_AFTER, WORKER_PREFIX, last_seen

# The sweep runs every minute: five minutes without one is a stopped timer, not a slow minute.
SWEEP_LATE_AFTER = datetime.timedelta(minutes=5)
# A task ready this long and still not taken: no worker is taking tasks (or far too few).
QUEUE_LATE_AFTER = datetime.timedelta(minutes=5)
# A task that failed this recently with no success of the same task since: e-mails are probably not leaving (an
# alert's e-mail is tried again 1, 5, 15 and 60 minutes after a failure, so a passing blip clears within the hour).
FAILED_TASKS_WITHIN = datetime.timedelta(hours=1)


class Fine(str):
    """A check's answer when nothing is wrong but something is worth saying (printed after "ok")."""


def _ago(moment, now):
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minute(s) ago"
    return f"{minutes // 60} hour(s) ago"


class Command(BaseCommand):
    help = (
        "Check that the deployment is complete: Django's deployment checks, migrations, static files, the task "
        "backend, the shared cache, that the worker and the sweep ran recently, that tasks are not failing and that "
        "the mail server accepts a connection. Exits with status 1 when something is missing."
    )
    requires_system_checks = []  # run below, with the deployment checks, where their outcome is reported

    def add_arguments(self, parser):
        parser.add_argument(
            "--fail-level",
            default="WARNING",
            choices=["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"],
            help="The level of Django's checks that counts as a problem (default: WARNING).",
        )

    def handle(self, *args, fail_level="WARNING", **options):
        now = timezone.now()
        checks = [
            ("Django's deployment checks (check --deploy)", lambda: self._django_checks(fail_level)),
            ("database migrations", self._migrations),
            ("database engine", self._database),
            ("static files", self._static_files),
            ("task backend", self._task_backend),
            ("shared cache (Redis)", self._shared_cache),
            ("sweep", lambda: self._sweep(now)),
            ("worker", lambda: self._worker(now)),
            ("task queue", lambda: self._queue(now)),
            ("failed tasks", lambda: self._failed_tasks(now)),
            ("mail server", self._mail_server),
        ]
        problems = 0
        for name, check in checks:
            try:
                problem = check()
            except Exception as error:  # e.g. the database cannot be reached: that is the answer
                problem = f"could not be checked: {error}"
            if isinstance(problem, Fine):
                self.stdout.write(f"ok       {name}: {problem}")
            elif problem:
                problems += 1
                self.stderr.write(f"PROBLEM  {name}: {problem}")
            else:
                self.stdout.write(f"ok       {name}")
        if problems:
            raise CommandError(f"The deployment is not complete: {problems} problem(s), see above (docs/DEPLOY.md).")
        self.stdout.write(self.style.SUCCESS("The deployment is complete."))

    def _django_checks(self, fail_level):
        output = io.StringIO()
        try:
            call_command("check", deploy=True, fail_level=fail_level, stdout=output, stderr=output)
        except SystemCheckError as error:
            return "\n" + str(error).strip()
        return ""

    def _migrations(self):
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return f"{len(plan)} migration(s) not applied: run `manage.py migrate`."
        return ""

    def _database(self):
        if not settings.DEBUG and connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            return "production runs on PostgreSQL 15 or newer: set DATABASE_URL=postgres://…"
        return ""

    def _static_files(self):
        if isinstance(staticfiles_storage, ManifestFilesMixin) and not staticfiles_storage.exists(
            staticfiles_storage.manifest_name
        ):
            return f"not collected into {settings.STATIC_ROOT}: run `manage.py collectstatic --noinput`."
        return ""

    def _task_backend(self):
        backend = task_backends["default"]
        if not isinstance(backend, DatabaseBackend):
            return f"TASKS uses {type(backend).__name__}; production needs django_tasks_db.DatabaseBackend."
        return ""

    def _shared_cache(self):
        # Pages never fail when Redis is away (its errors read as misses), so this is where an outage shows.
        if not settings.CONTENT_CACHE:
            if settings.DEBUG:
                return ""
            return "REDIS_URL is not set: every page reads its session and plan content from the database."
        try:
            cache.client.get_client().ping()
        except Exception as error:
            return f"Redis at REDIS_URL does not answer ({error}); pages read everything from the database meanwhile."
        return ""

    def _sweep(self, now):
        seen = last_seen(SWEEP)
        if seen is None:
            return "has never run. Enable the timer: `systemctl enable --now apex-sweep.timer`."
        if now - seen > SWEEP_LATE_AFTER:
            return f"last ran {_ago(seen, now)}. Is apex-sweep.timer enabled (`systemctl list-timers`)?"
        return ""

    def _worker(self, now):
        seen = last_seen(prefix=WORKER_PREFIX)
        if seen is None:
            return "no worker has ever run. Start it: `systemctl enable --now apex-worker`."
        if now - seen > WORKER_GONE_AFTER:
            return f"no worker alive: the last one was seen {_ago(seen, now)}. Check `systemctl status apex-worker`."
        return ""

    def _queue(self, now):
        waiting = DBTaskResult.objects.ready().filter(enqueued_at__lt=now - QUEUE_LATE_AFTER)
        count = waiting.count()
        if count:
            oldest = waiting.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
            return f"{count} task(s) waiting, the oldest queued {_ago(oldest, now)}: the worker is not keeping up."
        return ""

    def _failed_tasks(self, now):
        # The worker records a failed e-mail and carries on: without this, invitations, alerts and reminders can
        # fail for hours while every other check passes. A later success of the same task clears a failure.
        later_success = DBTaskResult.objects.successful().filter(
            task_path=OuterRef("task_path"), finished_at__gt=OuterRef("finished_at")
        )
        failed = (
            DBTaskResult.objects.failed()
            .filter(finished_at__gte=now - FAILED_TASKS_WITHIN)
            .exclude(Exists(later_success))
            .order_by("-finished_at")
        )
        rows = list(failed.values_list("task_path", "finished_at", "exception_class_path"))
        if not rows:
            return ""
        by_task = Counter(path.rsplit(".", 1)[-1] for path, _at, _error in rows)
        tasks = ", ".join(f"{name} ×{count}" for name, count in by_task.most_common())
        _path, latest, error = rows[0]
        return (
            f"{len(rows)} task(s) failed in the last hour with no success since ({tasks}), the latest "
            f"{_ago(latest, now)} ({error or 'no error recorded'}): e-mails are probably not leaving. Read the "
            "worker's log (`journalctl -u apex-worker`) and the admin's Task results."
        )

    def _mail_server(self):
        # Connects, says EHLO (and STARTTLS and logs in, as EMAIL_URL asks) and NOOP: no mail is sent.
        mailer = mailers["default"]
        if not isinstance(mailer, SMTPBackend):
            kind = type(mailer).__module__.rsplit(".", 1)[-1]
            if settings.DEBUG:
                return Fine(f"e-mail goes to the {kind} backend, not to a mail server: nothing to check.")
            return f"EMAIL_URL sends e-mail to the {kind} backend: nothing reaches patients or the clinic."
        where = f"{mailer.host}:{mailer.port}"
        try:
            mailer.open()
            mailer.connection.ehlo_or_helo_if_needed()
            code, _message = mailer.connection.noop()
        except Exception as error:
            return f"{where} (EMAIL_URL) does not accept a connection ({error}): no e-mail can leave."
        finally:
            try:
                mailer.close()
            except Exception:  # the answer is already known; a failed QUIT changes nothing
                pass
        if code != 250:
            return f"{where} (EMAIL_URL) answered NOOP with {code}: no e-mail can leave."
        return ""

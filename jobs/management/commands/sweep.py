"""``manage.py sweep``: the clinic's clock, run every minute (systemd timer or cron; a loop in ``make run``)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from jobs.sweep import sweep


class Command(BaseCommand):
    help = (
        "Queue the reminders that are due, raise inactive alerts, re-queue tasks of workers that died. "
        "Run it every minute; two at once are safe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="Keep running, one sweep every SECONDS (for development; production uses a timer).",
        )

    def handle(self, *args, every=None, verbosity=1, **options):
        if every is None:
            report = self._once(verbosity, quiet_when_idle=False)
            if report.failed:
                raise CommandError(f"The sweep did not finish: {', '.join(report.failed)} failed (see the log).")
            return
        if every < 1:
            raise CommandError("--every takes a number of seconds, at least 1.")
        self.stdout.write(f"Sweeping every {every} seconds (Ctrl+C stops).")
        try:
            while True:
                close_old_connections()
                try:
                    self._once(verbosity, quiet_when_idle=True)
                except Exception as error:  # e.g. the database is down for a moment: try again next time
                    self.stderr.write(f"The sweep failed: {error}")
                close_old_connections()
                time.sleep(every)
        except KeyboardInterrupt:
            pass

    def _once(self, verbosity, *, quiet_when_idle):
        report = sweep()
        busy = report.failed or any(report.counts.values())
        if verbosity >= 2 or (verbosity >= 1 and (busy or not quiet_when_idle)):
            self.stdout.write(f"Sweep: {report}.")
        return report

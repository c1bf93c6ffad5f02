"""Fill a benchmark database with a whole clinic, and hand out sessions for the load generator (``make bench``).

    manage.py bench_clinic --patients 10000 --days 90            # fill (kept: skipped when already filled)
    manage.py bench_clinic --reset                               # empty the clinic and fill it again
    manage.py bench_clinic --sessions 2000 --sessions-file F     # log in 2,000 patients and the clinicians

Every patient has a plan on the default protocol whose race was ``--days`` days ago, and that many days of history:
daily check-ins (pain settling over the first weeks, a few flare-ups), ticks at about 80% adherence that respect the
plan's gates (pain, clearance to run), the alerts those check-ins raise (older ones acknowledged), a few patients who
stopped using the portal. The big tables are written with PostgreSQL's COPY.

It refuses to run against anything but a PostgreSQL database whose name starts with ``apex_bench``, unless
``--database-name`` repeats the database's name: it deletes and writes thousands of rows, so it must never reach a
real clinic's database by accident.
"""

import datetime
import io
import math
import random
import time

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Min
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from accounts.roles import Role
from recovery import rules
from recovery.clock import clinic_today
from recovery.facts import facts_for_plans
from recovery.models import Alert, CheckIn, Completion, PlanStep, Protocol, RecoveryPlan, SafetyThresholds
from recovery.services import STEP_FIELDS
from recovery.summaries import last_week_store

DOMAIN = "bench.apex.test"
CLINICIANS = 10
STALE_AFTER_DAYS = 7  # a clinic whose history ended longer ago than this is filled again
FIRST_NAMES = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee", "Max", "Ali", "Nia", "Ola", "Eve", "Tom"]
LAST_NAMES = ["Runner", "Miles", "Pace", "Stride", "Hill", "Lane", "Track", "Field", "Marsh", "Ford", "Brook", "Dale"]


def _copy(table, columns, lines):
    """COPY text lines (tab-separated, already escaped) into ``table``, in blocks."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        block = io.StringIO()
        for number, line in enumerate(lines, 1):
            block.write(line)
            if number % 50_000 == 0:
                copy.write(block.getvalue())
                block = io.StringIO()
        copy.write(block.getvalue())


class Patient:
    """One simulated patient: how they feel, how faithful they are, and when (if ever) they stopped."""

    def __init__(self, rng, days, thresholds):
        self.adherence = rng.uniform(0.65, 0.95)  # about 80% on average
        self.check_in_rate = rng.uniform(0.8, 1.0)
        self.start_pain = rng.randint(4, 7)
        self.flare_day = rng.randint(20, days - 5) if rng.random() < 0.05 else None
        self.cleared_day = rng.randint(21, 35) if rng.random() < 0.75 else None
        self.stopped_day = rng.randint(30, days - 4) if rng.random() < 0.04 else None
        self.red_flag_rate = 0.002
        self.thresholds = thresholds

    def pain(self, rng, day):
        score = self.start_pain * math.exp(-day / 8) + rng.choice((-1, 0, 0, 1))
        if self.flare_day is not None and self.flare_day <= day < self.flare_day + 3:
            score += 5
        return max(0, min(10, round(score)))


class Command(BaseCommand):
    help = "Fill a PostgreSQL benchmark database (apex_bench*) with a clinic of patients and their history."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=90, help="Days of history (the race was this long ago).")
        parser.add_argument("--reset", action="store_true", help="Delete the clinic and fill it again.")
        parser.add_argument("--seed", type=int, default=26)
        parser.add_argument("--sessions", type=int, default=0, help="Log in this many patients (and the clinicians).")
        parser.add_argument("--sessions-file", help="Where to write the sessions for the load generator (TSV).")
        parser.add_argument(
            "--database-name", help="Repeat the database's name to allow one not named apex_bench* (never production)."
        )

    def handle(self, *args, **options):
        self._check_database(options["database_name"])
        patients, days = options["patients"], options["days"]
        if patients < 1 or days < 1:
            raise CommandError("--patients and --days must be at least 1.")
        state = self._state(days)
        if options["reset"] or state != (patients, "fresh"):
            if state[0]:
                why = "--reset" if options["reset"] else f"it holds {state[0]} patients, {state[1]}"
                self.stdout.write(f"Emptying the benchmark clinic ({why})…")
                self._empty()
            self._fill(patients, days, options["seed"])
        else:
            self.stdout.write(f"The benchmark clinic already holds {patients} patients with fresh history: kept.")
        if not options["sessions"]:
            self._last_week_store()
        if options["sessions"]:
            if not options["sessions_file"]:
                raise CommandError("--sessions needs --sessions-file.")
            self._sessions(options["sessions"], options["sessions_file"])

    def _last_week_store(self):
        """Each active plan's share of last week, as the clinic's clock stores it every night from 00:05: the
        patients list filters and sorts on it, and its rows read it (recovery/summaries.py)."""
        started, stored = time.monotonic(), 0
        while batch := last_week_store(today=clinic_today()):
            stored += batch
        if stored:
            # Every plan row rewritten, and autovacuum may be off on a developer's machine: the list reads this
            # table whole, and a bloated one made it slower (docs/BENCHMARKS.md, tenth round).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (FULL, ANALYZE) recovery_recoveryplan")
            self.stdout.write(f"Stored last week's share of {stored} plans in {time.monotonic() - started:.0f} s.")

    # -- Safety -------------------------------------------------------------------------------------------------

    def _check_database(self, repeated_name):
        if connection.vendor != "postgresql":
            raise CommandError("bench_clinic needs PostgreSQL (it writes with COPY); set DATABASE_URL.")
        name = settings.DATABASES["default"]["NAME"]
        if not name.startswith("apex_bench") and repeated_name != name:
            raise CommandError(
                f"Refusing to fill the database {name!r}: its name does not start with apex_bench. This command "
                f"deletes and writes thousands of rows. If {name!r} really is a throwaway database, add "
                f"--database-name {name}."
            )

    # -- Filling ------------------------------------------------------------------------------------------------

    def _bench_plans(self):
        return RecoveryPlan.objects.filter(patient__email__endswith="@" + DOMAIN)

    def _state(self, days):
        """(patients, "fresh" or why not): how full the clinic is and whether its history is recent enough."""
        found = self._bench_plans().aggregate(first=Min("race_date"), last=Max("race_date"))
        count = self._bench_plans().count()
        if not count:
            return (0, "empty")
        filled_on = found["first"] + datetime.timedelta(days=days)
        if found["first"] != found["last"] or (clinic_today() - filled_on).days > STALE_AFTER_DAYS:
            return (count, f"with history that ended on {filled_on - datetime.timedelta(days=1)} (stale)")
        return (count, "fresh")

    @transaction.atomic
    def _empty(self):
        plans = "SELECT p.id FROM recovery_recoveryplan p JOIN accounts_user u ON u.id = p.patient_id " + (
            "WHERE u.email LIKE %s"
        )
        pattern = "%@" + DOMAIN
        with connection.cursor() as cursor:
            for table in ["recovery_completion", "recovery_checkin", "recovery_alert", "recovery_excusedday"]:
                cursor.execute(f"DELETE FROM {table} WHERE plan_id IN ({plans})", [pattern])
            cursor.execute(f"DELETE FROM recovery_planstep WHERE plan_id IN ({plans})", [pattern])
            cursor.execute(f"DELETE FROM recovery_recoveryplan WHERE id IN ({plans})", [pattern])
            cursor.execute("DELETE FROM django_session")
            users = "SELECT id FROM accounts_user WHERE email LIKE %s"
            cursor.execute(f"DELETE FROM accounts_user_groups WHERE user_id IN ({users})", [pattern])
            cursor.execute(f"DELETE FROM accounts_user WHERE id IN ({users})", [pattern])

    def _fill(self, count, days, seed):
        started = time.monotonic()
        rng = random.Random(seed)
        today = clinic_today()
        race_date = today - datetime.timedelta(days=days)
        protocol = Protocol.objects.default()
        thresholds = SafetyThresholds.current()
        self.stdout.write(f"Filling the benchmark clinic: {count} patients, {days} days of history each…")

        with transaction.atomic():
            clinicians = self._people(
                [(f"clinician{n:02}@{DOMAIN}", "Dr", f"Clinician {n}") for n in range(1, CLINICIANS + 1)],
                Role.CLINICIAN,
                is_staff=True,
            )
            people = self._people(
                [
                    (f"patient{n:05}@{DOMAIN}", rng.choice(FIRST_NAMES), f"{rng.choice(LAST_NAMES)} {n}")
                    for n in range(1, count + 1)
                ],
                Role.PATIENT,
            )
            simulated = [Patient(rng, days, thresholds) for _ in people]
            plans = RecoveryPlan.objects.bulk_create(
                [
                    RecoveryPlan(
                        patient=person,
                        protocol=protocol,
                        race_date=race_date,
                        clinician=clinicians[number % CLINICIANS],
                        # One in 40 paused by the clinician this morning, after its history.
                        status=RecoveryPlan.Status.PAUSED if number % 40 == 39 else RecoveryPlan.Status.ACTIVE,
                        paused_on=today if number % 40 == 39 else None,
                        cleared_to_run_on=None
                        if patient.cleared_day is None
                        else race_date + datetime.timedelta(days=patient.cleared_day),
                        cleared_by=None if patient.cleared_day is None else clinicians[number % CLINICIANS],
                    )
                    for number, (person, patient) in enumerate(zip(people, simulated, strict=True))
                ],
                batch_size=2000,
            )
            steps = list(protocol.steps.all())
            # The same copy of the protocol's steps as recovery.services.plan_enrol makes.
            PlanStep.objects.bulk_create(
                (
                    PlanStep(plan=plan, **{name: getattr(step, name) for name in STEP_FIELDS})
                    for plan in plans
                    for step in steps
                ),
                batch_size=5000,
            )
            self.stdout.write(f"  {len(people)} patients, their plans and steps: {time.monotonic() - started:.0f} s")

            history = self._history(rng, plans, simulated, steps, race_date, days, thresholds, clinicians)
            totals = dict.fromkeys(("ticks", "check_ins", "alerts"), 0)
            completion_lines, check_in_lines, alert_lines, last_activity = [], [], [], {}
            for plan, ticks, check_ins, alerts, last in history:
                totals["ticks"] += len(ticks)
                totals["check_ins"] += len(check_ins)
                totals["alerts"] += len(alerts)
                completion_lines.extend(ticks)
                check_in_lines.extend(check_ins)
                alert_lines.extend(alerts)
                if last:
                    last_activity[plan.pk] = last
            _copy(
                Completion._meta.db_table,
                ["plan_id", "step_key", "date", "count", "updated_at"],
                completion_lines,
            )
            flags = CheckIn.RED_FLAG_FIELDS
            _copy(
                CheckIn._meta.db_table,
                ["plan_id", "date", "pain", "night_pain", "numbness", "swelling", "note",
                 *[name for name in flags if name != "night_pain"], "created_at", "updated_at"],
                check_in_lines,
            )  # fmt: skip
            _copy(
                Alert._meta.db_table,
                ["plan_id", "kind", "severity", "date", "reason", "created_at", "updated_at", "acknowledged_at",
                 "acknowledged_by_id", "acknowledgement_note"],
                alert_lines,
            )  # fmt: skip
            with connection.cursor() as cursor:
                # The summary the services keep up to date, and enrolment a day after the race.
                cursor.execute(
                    "UPDATE recovery_recoveryplan p SET last_activity_on = v.last, created_at = p.race_date + 1 "
                    "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::date[]) AS last) v WHERE p.id = v.id",
                    [list(last_activity), list(last_activity.values())],
                )
        with connection.cursor() as cursor:
            for table in ["accounts_user", "recovery_recoveryplan", "recovery_planstep", "recovery_completion",
                          "recovery_checkin", "recovery_alert"]:  # fmt: skip
                cursor.execute(f"VACUUM ANALYZE {table}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Filled in {time.monotonic() - started:.0f} s: {count} patients, {totals['ticks']} ticks, "
                f"{totals['check_ins']} check-ins, {totals['alerts']} alerts."
            )
        )

    def _people(self, rows, role, *, is_staff=False):
        joined = timezone.now()
        users = User.objects.bulk_create(
            [
                User(
                    email=email,
                    first_name=first,
                    last_name=last,
                    is_staff=is_staff,
                    # Unusable: nobody logs in with a password here; the load generator gets sessions instead.
                    password="!" + get_random_string(40),
                    date_joined=joined,
                )
                for email, first, last in rows
            ],
            batch_size=2000,
        )
        group = Group.objects.get(name=role)
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=user.pk, group_id=group.pk) for user in users], batch_size=5000
        )
        return users

    def _history(self, rng, plans, simulated, steps, race_date, days, thresholds, clinicians):
        """Per plan: (plan, completion lines, check-in lines, alert lines, last activity date)."""
        stamp = timezone.now().isoformat()
        filled_on = race_date + datetime.timedelta(days=days)
        for plan, patient in zip(plans, simulated, strict=True):
            ticks, check_ins, alerts = [], [], []
            last_day = days if patient.stopped_day is None else patient.stopped_day
            pain_on = {}
            latest, warned = None, False  # the latest check-in's pain score, and whether it had a red flag
            recent = []
            for day in range(last_day):
                date = race_date + datetime.timedelta(days=day)
                if rng.random() < patient.check_in_rate:
                    latest = patient.pain(rng, day)
                    pain_on[day] = latest
                    red_flag = warned = rng.random() < patient.red_flag_rate
                    check_ins.append(f"{plan.pk}\t{date}\t{latest}\t{'t' if red_flag else 'f'}\tf\tf\t\t")
                    check_ins[-1] += "\t".join(["f"] * (len(CheckIn.RED_FLAG_FIELDS) - 1)) + f"\t{stamp}\t{stamp}\n"
                    ticks.append(f"{plan.pk}\tcheck-in\t{date}\t1\t{stamp}\n")
                    alerts.extend(
                        self._alerts(plan, date, latest, recent, red_flag, filled_on=filled_on, thresholds=thresholds,
                                     clinician=clinicians[plan.pk % CLINICIANS])
                    )  # fmt: skip
                    recent = [*recent[-2:], latest]
                ticks.extend(self._ticks(rng, plan, patient, steps, date, day, None if warned else latest, stamp))
            last = None
            if last_day:
                last = race_date + datetime.timedelta(days=last_day - 1)
            yield plan, ticks, check_ins, alerts, last

    def _ticks(self, rng, plan, patient, steps, date, day, latest_pain, stamp):
        # latest_pain is None before the first check-in and after a red flag: the pain gates are closed.
        for step in steps:
            if step.key == "check-in" or day < step.first_day or (step.last_day is not None and day > step.last_day):
                continue
            if step.gate == rules.Gate.PAIN and (latest_pain is None or latest_pain > step.gate_pain_max):
                continue
            if step.gate == rules.Gate.CLEARANCE and (patient.cleared_day is None or day < patient.cleared_day):
                continue
            if step.times_per_week:
                # Spread the week's sessions over its days: a session on about times_per_week days out of 7.
                if rng.random() < patient.adherence * step.times_per_week / 7:
                    yield f"{plan.pk}\t{step.key}\t{date}\t1\t{stamp}\n"
                continue
            count = sum(rng.random() < patient.adherence for _ in range(step.doses_per_day))
            if count:
                yield f"{plan.pk}\t{step.key}\t{date}\t{count}\t{stamp}\n"

    def _alerts(self, plan, date, pain, recent, red_flag, *, filled_on, thresholds, clinician):
        """The alerts a check-in raises; those more than three days old are acknowledged by the clinician."""
        found = []
        if red_flag:
            found.append((Alert.Kind.RED_FLAG, Alert.Severity.URGENT, "Red flag: pain at night."))
        if pain >= thresholds.alert_pain_from:
            found.append((Alert.Kind.HIGH_PAIN, Alert.Severity.HIGH, f"Pain {pain}/10."))
        elif recent and pain - sum(recent) / len(recent) >= thresholds.pain_rise_points:
            found.append((Alert.Kind.RISING_PAIN, Alert.Severity.WATCH, f"Pain rose to {pain}/10."))
        when = timezone.make_aware(datetime.datetime.combine(date, datetime.time(8)))
        for kind, severity, reason in found:
            acknowledged = (filled_on - date).days > 3
            ack_at = (when + datetime.timedelta(hours=5)).isoformat() if acknowledged else "\\N"
            ack_by = str(clinician.pk) if acknowledged else "\\N"
            note = "Phoned the patient." if acknowledged else ""
            yield (
                f"{plan.pk}\t{kind}\t{severity}\t{date}\t{reason}\t{when.isoformat()}\t{when.isoformat()}\t"
                f"{ack_at}\t{ack_by}\t{note}\n"
            )

    # -- Sessions -----------------------------------------------------------------------------------------------

    def _sessions(self, count, path):
        """Log in ``count`` patients with active plans and every bench clinician, without a password hash each.

        Writes one line per session: role, session key, CSRF secret, the step id to tick, the date to tick.
        """
        today = clinic_today()
        # Sessions are opaque rows: the last run's go with every other session of this throwaway database.
        Session.objects.all().delete()
        plans = list(self._bench_plans().active().select_related("patient", "protocol").order_by("pk")[: count * 3 : 3])
        if len(plans) < count:
            plans = list(self._bench_plans().active().select_related("patient", "protocol").order_by("pk")[:count])
        # The step each patient ticks: one open (not locked) on today's checklist, with the rules' own reading.
        facts = facts_for_plans(plans, today - rules.WEEK_REACH, today)
        rows = []
        for plan in plans:
            tasks = [task for task in rules.tasks_on(facts[plan.pk], today, today) if task.lock is None]
            tickable = [task for task in tasks if task.key != "check-in"] or tasks
            if tickable:
                rows.append(("patient", plan.patient, tickable[0].step.ref.id))
        for clinician in User.objects.filter(email__endswith="@" + DOMAIN, is_staff=True).order_by("pk"):
            rows.append(("clinician", clinician, 0))
        # Django's own login (the test client's force_login: no password, no hash), so that the session holds
        # whatever login() and its user_logged_in receivers put there (backend, session hash, security stamps).
        client = Client()
        lines = []
        for role, user, step_id in rows:
            client.cookies.clear()  # a new session each time; logging in over the last one would end it
            client.force_login(user)
            key = client.cookies[settings.SESSION_COOKIE_NAME].value
            csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
            lines.append(f"{role}\t{key}\t{csrf}\t{step_id}\t{today}\n")
        with open(path, "w") as out:
            out.writelines(lines)
        patients = sum(1 for row in rows if row[0] == "patient")
        self.stdout.write(f"Sessions for {patients} patients and {len(rows) - patients} clinicians in {path}.")

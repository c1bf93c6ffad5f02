"""Demo accounts and plans for a first run: never in production."""

import datetime
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from recovery import rules
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import CheckIn, Completion, Protocol, RecoveryPlan
from recovery.services import plan_enrol
from recovery.summaries import last_week_store

DEMO_PEOPLE = [
    # e-mail, first name, last name, role, is_staff
    ("clinician@apex.test", "Sam", "Patel", Role.CLINICIAN, True),
    ("reception@apex.test", "Rita", "Jones", Role.RECEPTION, False),
    ("patient@apex.test", "Pat", "Runner", Role.PATIENT, False),
    ("patient2@apex.test", "Chris", "Miles", Role.PATIENT, False),
    # Back after another race: the spring's plan is complete, reception starts the next one at the front desk.
    ("returning@apex.test", "Jo", "Strider", Role.PATIENT, False),
]

# The demo patient's recent check-ins, oldest first: settling pain, nothing alarming.
DEMO_PAIN = [5, 4, 4, 3, 2]


class Command(BaseCommand):
    help = "Create the demo clinician, receptionist and two patients with plans. Safe to run twice; debug only."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo account (default: a generated one).")

    def handle(self, *args, password=None, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DJANGO_DEBUG on: it creates accounts with a known password.")
        password = password or secrets.token_urlsafe(12)
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError("That password is too weak: " + " ".join(error.messages)) from None

        with transaction.atomic():
            people = {
                email: self._person(email, first, last, role, staff, password)
                for email, first, last, role, staff in DEMO_PEOPLE
            }
            clinician = people["clinician@apex.test"]
            today = clinic_today()
            self._plan(people["patient@apex.test"], today - datetime.timedelta(days=5), clinician, history=True)
            self._plan(people["patient2@apex.test"], today - datetime.timedelta(days=10), clinician, history=False)
            self._completed_plan(people["returning@apex.test"], today - datetime.timedelta(days=210), clinician)
        last_week_store(today=today)  # the patients list's filter works before the clock's first sweep

        self.stdout.write(self.style.SUCCESS("Demo accounts are ready. Log in at /accounts/login/ with:"))
        for email, _first, _last, role, _staff in DEMO_PEOPLE:
            self.stdout.write(f"  {role:<10} {email:<22} password: {password}")

    def _person(self, email, first_name, last_name, role, is_staff, password):
        user, _ = get_user_model().objects.get_or_create(
            email=email, defaults={"first_name": first_name, "last_name": last_name, "is_staff": is_staff}
        )
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=role))
        return user

    def _plan(self, patient, race_date, clinician, *, history):
        if RecoveryPlan.objects.open().filter(patient=patient).exists():
            return
        plan = plan_enrol(
            patient=patient, protocol=Protocol.objects.default(), race_date=race_date, clinician=clinician
        )
        if history:
            self._history(plan)

    def _completed_plan(self, patient, race_date, clinician):
        if RecoveryPlan.objects.filter(patient=patient).exists():
            return
        plan = plan_enrol(
            patient=patient, protocol=Protocol.objects.default(), race_date=race_date, clinician=clinician
        )
        RecoveryPlan.objects.filter(pk=plan.pk).update(
            status=RecoveryPlan.Status.COMPLETED, created_at=timezone.now() - datetime.timedelta(days=209)
        )

    def _history(self, plan):
        """A few days of ticks and check-ins before today: mostly done, a few gaps, none of it today."""
        today = clinic_today()
        days = (today - plan.race_date).days
        CheckIn.objects.bulk_create(
            CheckIn(plan=plan, date=plan.race_date + datetime.timedelta(days=day), pain=DEMO_PAIN[day % len(DEMO_PAIN)])
            for day in range(days)
        )
        facts = facts_for_plan(plan, plan.race_date, today)
        completions = []
        for day in range(days):
            date = plan.race_date + datetime.timedelta(days=day)
            for task in rules.tasks_on(facts, date, today):
                if task.lock is not None or (day == 1 and task.key == "elevate"):
                    continue
                count = task.target - 1 if (day == 2 and task.key == "ice") else task.target
                if count:
                    completions.append(Completion(plan=plan, step_key=task.key, date=date, count=count))
        Completion.objects.bulk_create(completions)
        plan.last_activity_on = today - datetime.timedelta(days=1)
        # Seeded as if enrolled on race day: the history above is the patient's own, from the first day.
        RecoveryPlan.objects.filter(pk=plan.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))
        plan.note_to_patient = (
            "Well done on the first days.\n"
            "Take the stretches gently: stop if your pain goes above 3. See you on Monday."
        )
        plan.note_to_patient_on = today - datetime.timedelta(days=1)
        plan.save(update_fields=["last_activity_on", "note_to_patient", "note_to_patient_on"])

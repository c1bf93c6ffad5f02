"""Everything the portal keeps about one patient, for their own download (JSON or CSV).

Every time in it is the clinic's local time, with its difference from UTC ("2026-06-10 09:10:00+01:00"), as the
pages show it: stored in UTC, a 09:10 check-in read 08:10, and one just after midnight in summer the day before its
own date. The first section says which zone that is.
"""

import datetime

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from clinic.spreadsheets import csv_text
from recovery.models import Alert, CheckIn, Completion, ExcusedDay, PlanStep, RecoveryPlan
from reminders.export import reminder_data

PROFILE_FIELDS = ["email", "first_name", "last_name", "phone", "date_of_birth", "date_joined", "last_login"]
PLAN_FIELDS = [
    "id", "race_date", "status", "paused_on", "note_to_patient", "note_to_patient_on", "cleared_to_run_on",
    "created_at",
]  # fmt: skip
STEP_FIELDS = [
    "plan_id", "key", "label", "instruction", "first_day", "last_day", "doses_per_day", "times_per_week",
    "gate", "gate_pain_max", "valid_from", "valid_until",
]  # fmt: skip
CHECK_IN_FIELDS = ["plan_id", "date", "pain", "numbness", "swelling", "note", *CheckIn.RED_FLAG_FIELDS, "updated_at"]
ALERT_FIELDS = ["plan_id", "date", "kind", "severity", "reason", "acknowledged_at", "acknowledgement_note"]


def patient_data(user):
    """The patient's own data, section by section: each section a list of plain dicts."""
    plans = RecoveryPlan.objects.filter(patient=user)
    data = {
        "about": [
            {
                "times": f"All times are the clinic's local time ({settings.TIME_ZONE}), each with its difference "
                "from UTC (such as +01:00)."
            }
        ],
        "profile": [{field: getattr(user, field) for field in PROFILE_FIELDS}],
        # The protocol by its name, under a plain field name (not the ORM's "protocol__name").
        "plans": list(plans.values(*PLAN_FIELDS, protocol_name=F("protocol__name"))),
        "plan_steps": list(PlanStep.objects.filter(plan__in=plans).order_by("plan", "position").values(*STEP_FIELDS)),
        "ticks": list(
            Completion.objects.filter(plan__in=plans)
            .order_by("date", "step_key")
            .values("plan_id", "date", "step_key", "count")
        ),
        "days_off": list(ExcusedDay.objects.filter(plan__in=plans).values("plan_id", "date", "reason")),
        "check_ins": list(CheckIn.objects.filter(plan__in=plans).order_by("date").values(*CHECK_IN_FIELDS)),
        "alerts": list(Alert.objects.filter(plan__in=plans).order_by("date").values(*ALERT_FIELDS)),
        **reminder_data(user),  # reminder_settings, reminder_deliveries
    }
    return {section: [_in_local_time(row) for row in rows] for section, rows in data.items()}


def _in_local_time(row):
    # Written out here, the same in both files: "2026-11-27 09:10:38+01:00". JSON's encoder wrote "…Z" for the
    # winter's +00:00 (read as UTC, not the clinic's time) and the CSV kept the microseconds.
    return {
        field: timezone.localtime(value).isoformat(sep=" ", timespec="seconds")
        if isinstance(value, datetime.datetime) and timezone.is_aware(value)
        else value
        for field, value in row.items()
    }


def as_csv(data):
    """One CSV in long form (section, row, field, value), so every section fits one file and a spreadsheet."""
    return csv_text([
        ["section", "row", "field", "value"],
        *(
            [section, number, field, "" if value is None else value]
            for section, rows in data.items()
            for number, row in enumerate(rows, start=1)
            for field, value in row.items()
        ),
    ])  # fmt: skip

"""The workspace's list filters: the patients list's one-choice filters and its last week's filter (whose
``query()`` the workspace home's links use, recovery/workspace.py), its phase filter, and the alerts list's open or
acknowledged filter."""

import datetime

from django.contrib import admin
from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from recovery import summaries
from recovery.clock import clinic_today
from recovery.models import CheckIn, Gate, Phase


class OneChoiceFilter(admin.SimpleListFilter):
    """A filter of the patients list with one choice besides "All": ``choice`` is its (value, label), ``condition``
    the plans it keeps. ``query()`` is the choice as a query string, for links to the filtered list."""

    choice = ("", "")

    def condition(self, request):
        raise NotImplementedError

    @classmethod
    def query(cls):
        return f"{cls.parameter_name}={cls.choice[0]}"

    def lookups(self, request, model_admin):
        return [self.choice]

    def queryset(self, request, queryset):
        return queryset.filter(self.condition(request)) if self.value() == self.choice[0] else queryset


class MyPatientsFilter(OneChoiceFilter):
    title = "patients"
    parameter_name = "mine"
    choice = ("yes", "My patients")

    def condition(self, request):
        return Q(clinician=request.user)


class OpenAlertsFilter(OneChoiceFilter):
    title = "alerts"
    parameter_name = "alerts"
    choice = ("open", "Has open alerts")

    def condition(self, request):
        return Q(open_alert_rank__gt=0)


class InactiveFilter(OneChoiceFilter):
    title = "activity"
    parameter_name = "activity"
    choice = ("inactive", "Inactive")

    def condition(self, request):
        return summaries.inactive_q(clinic_today())


class ClearanceFilter(OneChoiceFilter):
    title = "return to running"
    parameter_name = "clearance"
    choice = ("due", "Due for sign-off")

    def condition(self, request):
        return summaries.due_for_clearance_q(clinic_today())


class LastWeekFilter(admin.SimpleListFilter):
    """Who is keeping up: active plans by their share of last week's tasks done, as the clinic's clock stored it
    (recovery/summaries.py, "Last week, stored")."""

    title = "done, 7 days to yesterday"
    parameter_name = "done"

    @classmethod
    def query(cls, choice):
        return f"{cls.parameter_name}={choice}"

    def lookups(self, request, model_admin):
        return [(choice, label) for choice, label, *_ in summaries.LAST_WEEK_BANDS]

    def queryset(self, request, queryset):
        if self.value() not in {choice for choice, *_ in summaries.LAST_WEEK_BANDS}:
            return queryset
        return queryset.filter(summaries.last_week_band_q(self.value(), clinic_today()))


def _pain_gate_open(pain_max, today):
    """Whether the plan's latest check-in up to ``today`` opens a pain gate of ``pain_max``, as rules.gate_lock
    reads it: a score at most the limit and no red flag; no check-in yet keeps it closed (never NULL, so that
    "no later phase open" reads it too)."""
    red_flag = Q.create([(name, True) for name in CheckIn.RED_FLAG_FIELDS], connector=Q.OR)
    opens = Case(When(~red_flag & Q(pain__lte=pain_max), then=Value(True)), default=Value(False))
    # One row per plan from the check-ins' (plan, date) index (check_in_once_per_day), as the row's latest pain.
    latest = CheckIn.objects.filter(plan=OuterRef("pk"), date__lte=today).order_by("-date").values(opens=opens)[:1]
    return Coalesce(Subquery(latest, output_field=BooleanField()), Value(False))


def _phase_open_q(phase, today):
    """Plans whose day has reached ``phase`` and whose entry gate (rules.gate_lock) is open on ``today``."""
    condition = Q(race_date__lte=today - datetime.timedelta(days=phase.first_day))
    if phase.gate == Gate.CLEARANCE:
        condition &= Q(cleared_to_run_on__lte=today)
    elif phase.gate == Gate.PAIN:
        condition &= Q(_pain_gate_open(phase.gate_pain_max, today))
    return condition


def phase_q(name, today):
    """Plans now in the phase called ``name``: the same reading as rules.phase_on, in SQL, for the filter."""
    matches = Q(pk__in=[])
    by_protocol = {}
    for phase in Phase.objects.order_by("position"):
        by_protocol.setdefault(phase.protocol_id, []).append(phase)
    for protocol_id, phases in by_protocol.items():
        for index, phase in enumerate(phases):
            if phase.name != name:
                continue
            condition = Q(protocol_id=protocol_id) & _phase_open_q(phase, today)
            for later in phases[index + 1 :]:
                condition &= ~_phase_open_q(later, today)
            matches |= condition
    return matches


class PhaseFilter(admin.SimpleListFilter):
    title = "phase"
    parameter_name = "phase"

    def lookups(self, request, model_admin):
        names = Phase.objects.order_by("position").values_list("name", flat=True)
        return [(name, name) for name in dict.fromkeys(names)]

    def queryset(self, request, queryset):
        return queryset.filter(phase_q(self.value(), clinic_today())) if self.value() else queryset


class AlertStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("acknowledged", "Acknowledged")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(acknowledged_at__isnull=True)
        if self.value() == "acknowledged":
            return queryset.filter(acknowledged_at__isnull=False)
        return queryset

"""One line per plan for the clinician's list, the visit summary and the adherence export.

The numbers come from the rules module, fed by a fixed number of bulk queries for all the plans at once, so a
page of 100 patients costs what a page of 3 does.

Last week, stored: the list shows each row's share of the tasks done in the last seven whole days, but cannot work
it out for 10,000 plans to sort or filter them. So the clinic's clock (``manage.py sweep``) stores it on each
active plan once a day (``last_week_store``). The number is worked out from what was recorded by the end of
yesterday (``PlanFacts.as_of``), so only a change to one of those days moves it: a patient's late tick or day off,
a corrected race date or a withdrawn clearance, each of which clears it for the next sweep, a minute later, to
work out again (``services.plan_note_past_change``). A paused plan is not stored: when it is resumed, its number is
from before the pause and so is worked out again too. Both come from ``last_week_percent``, so the stored number
and the row's agree.
"""

import dataclasses
import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BigIntegerField, Case, Count, F, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import Cast, Coalesce, ExtractDay, ExtractMonth, ExtractYear
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.text import capfirst

from recovery import rules
from recovery.facts import facts_for_plans
from recovery.models import Alert, CheckIn, Gate, Phase, RecoveryPlan, SafetyThresholds
from recovery.models.plans import quiet_since_expression

RECENT_DAYS = 7
# Pain trend: the latest score against the average of the ones recorded in the few days before it.
TREND_DAYS = 3
# The patients list's filter on last week's share done: (choice, label, lowest percentage, highest).
LAST_WEEK_BANDS = [
    ("under-50", "Under 50%", 0, 49),
    ("50-79", "50% to 79%", 50, 79),
    ("80-plus", "80% or more", 80, 100),
]
# Plans worked out per transaction by the sweep: their rows stay locked meanwhile (a late tick on one waits).
LAST_WEEK_BATCH = 200
# The sweep starts on a new day's numbers this long after midnight: a tick sent for "today" just before midnight
# (which clears nothing: its day is not yet in the past) has been saved by then, requests time out after 30 s.
LAST_WEEK_AFTER_MIDNIGHT = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class PlanSummary:
    day: int
    phase: str
    last_week_percent: int | None  # of the seven whole days before today
    last_pain: int | None
    pain_trend: str  # "up", "down", "steady" or "" when there is nothing to compare
    open_alerts: int
    open_alert_severity: int  # the most severe open alert's (Alert.Severity), 0 without one
    last_activity_on: datetime.date | None
    inactive: bool


# ``open_alert_rank``: who needs the clinician first, in one number so that one correlated subquery sorts 10,000
# plans (a second one for the date took the list's database time from 10 to 40 ms; docs/BENCHMARKS.md). Its digits
# are the most severe open alert's severity, the date of the newest open alert of that severity (YYYYMMDD), then
# how many alerts are open: 3_20261127_002 is two open alerts, the worst a call-999 red flag reported on 27 Nov
# 2026. So today's red flag sorts above last week's, however many alerts sit beside the older one.
ALERT_COUNT_BASE = 1000
ALERT_DATE_BASE = 100_000_000  # YYYYMMDD


def open_alert_rank_parts(rank):
    """(count, severity) of an ``open_alert_rank``."""
    rank = int(rank)
    return rank % ALERT_COUNT_BASE, rank // ALERT_COUNT_BASE // ALERT_DATE_BASE


def _severity_then_date():
    # Severity first, then the date as YYYYMMDD: the Max of this over a plan's alerts is the worst severity and
    # the newest date among the alerts of that severity.
    return Max(
        F("severity") * ALERT_DATE_BASE
        + ExtractYear("date") * 10_000
        + ExtractMonth("date") * 100
        + ExtractDay("date"),
        output_field=BigIntegerField(),
    )


def with_summary_columns(queryset):
    """Annotate what the list sorts and filters on in the database: open alerts, the latest pain score and the day
    the patient's silence counts from (``quiet_since_on``, read by each row's "inactive")."""
    latest = CheckIn.objects.filter(plan=OuterRef("pk")).order_by("-date")
    # A correlated subquery on the partial index of open alerts (Alert.Meta: "alert_open_by_plan"), not a join of
    # every alert plus a GROUP BY of every plan: the list sorts all plans by it before it takes a page of 50.
    open_alerts = (
        Alert.objects.open()
        .filter(plan=OuterRef("pk"))
        .order_by()
        .values("plan")
        .annotate(rank=Cast(_severity_then_date() * ALERT_COUNT_BASE + Count("pk"), BigIntegerField()))
        .values("rank")
    )
    return queryset.with_quiet_since().annotate(
        open_alert_rank=Coalesce(Subquery(open_alerts), 0),
        last_pain=Subquery(latest.values("pain")[:1]),
        last_pain_on=Subquery(latest.values("date")[:1]),
    )


def with_last_week_sort_key(queryset, today):
    """Annotate ``last_week_now``: the stored share of last week where it is for the week that ended yesterday (None
    while it waits for the sweep). Only for a list sorted by it: worked out for every plan before the sort, it cost
    the list's main query a quarter more (27 → 34 ms over 10,000 plans)."""
    return queryset.annotate(last_week_now=Case(When(_last_week_stored_q(today), then="last_week_percent")))


def inactive_since(today, thresholds=None):
    """Plans with no tick and no check-in since this date are inactive (DESIGN.md: "Inactive")."""
    thresholds = thresholds or SafetyThresholds.current()
    return today - datetime.timedelta(days=thresholds.inactive_after_days)


def due_for_clearance_q(today):
    """Active plans not yet cleared to run whose day has reached their protocol's first phase that waits for a
    clinician's sign-off (the default protocol's "Return to running", from day 21): the clinician's to-do, since
    the running steps stay locked until then."""
    first_days = {}
    for protocol_id, first_day in Phase.objects.filter(gate=Gate.CLEARANCE).values_list("protocol_id", "first_day"):
        first_days[protocol_id] = min(first_day, first_days.get(protocol_id, first_day))
    reached = Q(pk__in=[])
    for protocol_id, first_day in first_days.items():
        reached |= Q(protocol_id=protocol_id, race_date__lte=today - datetime.timedelta(days=first_day))
    return Q(status=RecoveryPlan.Status.ACTIVE, cleared_to_run_on__isnull=True) & reached


def inactive_q(today, thresholds=None):
    """Active plans of patients whose account is on (a switched-off patient cannot log anything) who have logged
    nothing since ``inactive_since``: the one rule of the list, the workspace, the front desk and the sweep."""
    since = inactive_since(today, thresholds)
    return Q(status=RecoveryPlan.Status.ACTIVE, patient__is_active=True) & Q(LessThan(quiet_since_expression(), since))


def _trend(facts, last_pain_on):
    if last_pain_on is None or last_pain_on not in facts.pain_by_date:
        return ""
    earlier = [
        facts.pain_by_date[day]
        for day in (last_pain_on - datetime.timedelta(days=back) for back in range(1, TREND_DAYS + 1))
        if day in facts.pain_by_date
    ]
    if not earlier:
        return ""
    change = facts.pain_by_date[last_pain_on] - sum(earlier) / len(earlier)
    return "up" if change >= 1 else "down" if change <= -1 else "steady"


def _facts_first(today):
    """The first day the summaries load: a weekly step's week that holds last week's first day starts up to
    ``rules.WEEK_REACH`` before it, and its sessions then count (this also covers the days the pain trend
    compares)."""
    return last_week(today)[0] - rules.WEEK_REACH


def last_week(today):
    """The first and last of the seven whole days before ``today``: whole days only, so a number over them holds
    from one morning to the next unless a patient changes one of them."""
    return today - datetime.timedelta(days=RECENT_DAYS), today - datetime.timedelta(days=1)


def last_week_percent(facts, today):
    """The share of the tasks due last week (``last_week``) that were done (rules.adherence), as a percentage,
    from what was recorded by the end of it: today's entries never move it, only a change to one of its days."""
    first, last = last_week(today)
    return rules.percent(rules.adherence(facts.as_of(last), first, last, today))


def plan_summaries(plans, today):
    """PlanSummary by plan id for plans annotated by ``with_summary_columns``, their patients loaded."""
    plans = list(plans)
    thresholds = SafetyThresholds.current()
    since = inactive_since(today, thresholds)
    all_facts = facts_for_plans(plans, _facts_first(today), today)
    stored_for = last_week(today)[1]
    summaries = {}
    for plan in plans:
        facts = all_facts[plan.pk]
        phase = rules.phase_on(facts, today)
        # The number the clock stored for this week, the one the list's filter and sort read, while it holds
        # (any change to one of its days clears it): a third of the list's work when worked out row by row.
        stored = plan.status == RecoveryPlan.Status.ACTIVE and plan.last_week_ends_on == stored_for
        open_alerts, open_alert_severity = open_alert_rank_parts(plan.open_alert_rank)
        summaries[plan.pk] = PlanSummary(
            day=facts.day_number(today),
            phase=phase.name if phase else "",
            last_week_percent=plan.last_week_percent if stored else last_week_percent(facts, today),
            last_pain=plan.last_pain,
            pain_trend=_trend(facts, plan.last_pain_on),
            open_alerts=open_alerts,
            open_alert_severity=open_alert_severity,
            last_activity_on=plan.last_activity_on,
            inactive=plan.status == RecoveryPlan.Status.ACTIVE and plan.patient.is_active and plan.quiet_since < since,
        )
    return summaries


def last_week_store_due(*, now):
    """The sweep's step: store the plans' last week for the day it is ``LAST_WEEK_AFTER_MIDNIGHT`` ago."""
    return last_week_store(today=timezone.localdate(now - LAST_WEEK_AFTER_MIDNIGHT))


def last_week_store(*, today, most=2000):
    """Store ``last_week_percent`` on the active plans that do not hold it for the week that ended yesterday: all
    of them on a new day, and those a change cleared. At most ``most`` plans, so that one sweep stays short (10,000
    plans take a few sweeps); returns how many were stored.

    Each batch's rows are locked, and rows another transaction holds (a tick being saved) are skipped: that tick
    clears the plan's number after this batch, or this batch reads the tick, so no change is ever lost."""
    ends_on = last_week(today)[1]
    stored = 0
    while stored < most:
        batch = min(LAST_WEEK_BATCH, most - stored)
        with transaction.atomic():
            plans = list(
                RecoveryPlan.objects.filter(status=RecoveryPlan.Status.ACTIVE)
                .exclude(last_week_ends_on=ends_on)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch]
            )
            if plans:
                all_facts = facts_for_plans(plans, _facts_first(today), today)
                for plan in plans:
                    plan.last_week_percent = last_week_percent(all_facts[plan.pk], today)
                    plan.last_week_ends_on = ends_on
                RecoveryPlan.objects.bulk_update(plans, ["last_week_percent", "last_week_ends_on"])
        stored += len(plans)
        if len(plans) < batch:
            break  # none left (or only rows being changed right now: the next sweep takes them)
    return stored


def _last_week_stored_q(today):
    """Active plans holding their share of the week that ended yesterday: not cleared, not from before a pause.

    (Not joined to the patients: the list sorts every plan on it, and a join of 10,000 patients first made its main
    query and its counts half as slow again. The bands below leave switched-off patients out.)"""
    return Q(status=RecoveryPlan.Status.ACTIVE, last_week_ends_on=last_week(today)[1])


def last_week_band_q(choice, today):
    """Active plans whose stored share of last week is in the band ``choice`` (LAST_WEEK_BANDS), of patients whose
    account is on: a switched-off patient cannot tick anything, so is not "behind"."""
    _, _, lowest, highest = next(band for band in LAST_WEEK_BANDS if band[0] == choice)
    return _last_week_stored_q(today) & Q(
        patient__is_active=True, last_week_percent__gte=lowest, last_week_percent__lte=highest
    )


def step_adherence(facts, first, last, today):
    """Adherence per step key over the days ``first`` to ``last``, in plan order: the visit summary's table."""
    keys = []
    for step in sorted(facts.steps, key=lambda step: step.position):
        if step.key not in keys:
            keys.append(step.key)
    result = []
    for key in keys:
        only_this = dataclasses.replace(facts, steps=[step for step in facts.steps if step.key == key])
        label = next(step.label for step in reversed(facts.steps) if step.key == key)
        result.append((key, label, rules.adherence(only_this, first, last, today)))
    return result


@dataclass(frozen=True)
class StepToday:
    """What a step asks of the patient today, in a clinician's words, and whether it is on today's checklist."""

    text: str
    on_checklist: bool


def steps_today(facts, today):
    """What each step asks of the patient today, by step key (Today says the same to the patient in theirs): its
    dose and days, what holds it, and a change already set for a later day; for a step not on today's checklist,
    when it starts, ended or was stopped."""
    said = {}
    for task in rules.tasks_on(facts, today, today):
        step = task.step
        parts = [
            f"{capfirst(step.how_often)}, {_step_days(step)}.",
            "This week's sessions are done." if task.week_met else "",
            _held(task.lock, facts, today),
            _next_change(facts, step, today),
        ]
        said[task.key] = StepToday(" ".join(part for part in parts if part), on_checklist=True)
    versions = {}
    for step in sorted(facts.steps, key=lambda step: step.valid_from or datetime.date.min):
        versions.setdefault(step.key, []).append(step)
    today_number = facts.day_number(today)
    for key, steps in versions.items():
        if key in said:
            continue
        current = next((step for step in steps if step.in_force_on(today)), None)
        coming = next((step for step in steps if step.valid_from is not None and step.valid_from > today), None)
        if current is None and coming is not None:
            text = f"From {coming.valid_from:%-d %b}."
        elif current is None:
            text = f"Stopped from {steps[-1].valid_until:%-d %b}."
        elif current.last_day is not None and current.last_day < today_number:
            text = f"Ended on day {current.last_day}."
        elif current.gate == rules.Gate.CLEARANCE and facts.cleared_on is None:
            text = f"From day {current.first_day}, once cleared to run."
        else:
            text = f"From day {current.first_day}."
        said[key] = StepToday(text, on_checklist=False)
    return said


def _next_change(facts, step, today):
    """A change of this step already set for a later day: the clinician sees it before the patient does."""
    later = [other for other in facts.steps if other.key == step.key and other.valid_from and other.valid_from > today]
    if later:
        change = min(later, key=lambda other: other.valid_from)
        day = facts.day_number(change.valid_from)
        if change.last_day is not None and change.last_day < day:
            return f"Ends from {change.valid_from:%-d %b}."
        return f"From {change.valid_from:%-d %b}: {change.how_often}, {_step_days(change)}."
    if step.valid_until is not None:
        return f"Stops from {step.valid_until:%-d %b}."
    return ""


def _step_days(step):
    if step.last_day is not None:
        return f"days {step.first_day}–{step.last_day}"
    return "from race day" if step.first_day == 0 else f"from day {step.first_day}"


def _held(lock, facts, today):
    if lock is None:
        return ""
    if lock.paused and lock.gate == Gate.NONE:
        return "Plan paused: the patient keeps this up, with nothing to tick."
    if lock.paused:
        return "Held: the plan is paused."
    if lock.warning:
        return "Held: a warning sign in the latest check-in."
    if lock.stop_pain:
        pain = facts.latest_pain(today)
        return f"Held: pain {pain}/10 in the latest check-in, at the stop level ({facts.stop_pain_from} or more)."
    if lock.gate == Gate.PAIN and lock.no_score:
        return f"Held until a check-in gives pain of {lock.pain_max}/10 or less."
    if lock.gate == Gate.PAIN:
        return f"Held: the latest pain, {facts.latest_pain(today)}/10, is above {lock.pain_max}/10."
    return "Held until cleared to run."

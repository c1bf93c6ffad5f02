"""One line per plan for the clinician's list, the visit summary and the adherence export.

The numbers come from the rules module, fed by a fixed number of bulk queries for all the plans at once, so a
page of 100 patients costs what a page of 3 does.
"""

import dataclasses
import datetime
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from recovery import rules
from recovery.facts import facts_for_plans
from recovery.models import Alert, CheckIn, Gate, Phase, RecoveryPlan, SafetyThresholds

RECENT_DAYS = 7
# Pain trend: the latest score against the average of the ones recorded in the few days before it.
TREND_DAYS = 3


@dataclass(frozen=True)
class PlanSummary:
    day: int
    phase: str
    adherence_7d: float | None
    last_pain: int | None
    pain_trend: str  # "up", "down", "steady" or "" when there is nothing to compare
    open_alerts: int
    last_activity_on: datetime.date | None
    inactive: bool


def with_summary_columns(queryset):
    """Annotate what the list sorts and filters on in the database: open alerts and the latest pain score."""
    latest = CheckIn.objects.filter(plan=OuterRef("pk")).order_by("-date")
    # A correlated count on the partial index of open alerts (Alert.Meta: "alert_open_by_plan"), not a join of
    # every alert plus a GROUP BY of every plan: the list sorts all plans by it before it takes a page of 50.
    open_alerts = (
        Alert.objects.open().filter(plan=OuterRef("pk")).order_by().values("plan").annotate(n=Count("pk")).values("n")
    )
    return queryset.annotate(
        open_alert_count=Coalesce(Subquery(open_alerts), 0),
        last_pain=Subquery(latest.values("pain")[:1]),
        last_pain_on=Subquery(latest.values("date")[:1]),
    )


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
    since = inactive_since(today, thresholds)
    return Q(status=RecoveryPlan.Status.ACTIVE) & (
        Q(last_activity_on__lt=since) | Q(last_activity_on__isnull=True, created_at__date__lt=since)
    )


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


def plan_summaries(plans, today):
    """PlanSummary by plan id for plans annotated by ``with_summary_columns``."""
    plans = list(plans)
    thresholds = SafetyThresholds.current()
    since = inactive_since(today, thresholds)
    first = today - datetime.timedelta(days=RECENT_DAYS + TREND_DAYS + 1)
    all_facts = facts_for_plans(plans, first, today)
    summaries = {}
    for plan in plans:
        facts = all_facts[plan.pk]
        phase = rules.phase_on(facts, today)
        last_activity = plan.last_activity_on
        summaries[plan.pk] = PlanSummary(
            day=facts.day_number(today),
            phase=phase.name if phase else "",
            adherence_7d=rules.adherence(facts, today - datetime.timedelta(days=RECENT_DAYS - 1), today, today),
            last_pain=plan.last_pain,
            pain_trend=_trend(facts, plan.last_pain_on),
            open_alerts=plan.open_alert_count,
            last_activity_on=last_activity,
            inactive=plan.status == RecoveryPlan.Status.ACTIVE and ((last_activity or plan.started_on) < since),
        )
    return summaries


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

"""Load what the rules need about plans in a fixed number of queries, whatever the length of their history."""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from recovery.models import CheckIn, Completion, ExcusedDay, Phase, PlanStep, RecoveryPlan
from recovery.rules import PhaseRule, PlanFacts, StepRule

STEP_RULE_FIELDS = [
    "key", "label", "position", "first_day", "last_day", "doses_per_day", "times_per_week",
    "gate", "gate_pain_max", "valid_from", "valid_until",
]  # fmt: skip
STEP_INFO_FIELDS = ["id", "instruction", "tip__slug", "tip__title"]
PHASE_RULE_FIELDS = ["name", "position", "first_day", "gate", "gate_pain_max"]


@dataclass(frozen=True)
class StepInfo:
    """What the patient's pages show of a step besides its rules."""

    id: int
    instruction: str
    tip_slug: str
    tip_title: str


def facts_for_plans(plans, first, last):
    """PlanFacts for each plan, by plan id, holding the days ``first`` to ``last``. Five queries in all."""
    plans = list(plans)
    ids = [plan.pk for plan in plans]
    protocol_ids = {plan.protocol_id for plan in plans}

    steps = {}
    rows = PlanStep.objects.filter(plan_id__in=ids).values("plan_id", *STEP_RULE_FIELDS, *STEP_INFO_FIELDS)  # query 1
    for row in rows:
        info = StepInfo(*(row.pop(name) for name in STEP_INFO_FIELDS))
        steps.setdefault(row.pop("plan_id"), []).append(StepRule(**row, ref=info))
    phases = {}
    for row in Phase.objects.filter(protocol_id__in=protocol_ids).values("protocol_id", *PHASE_RULE_FIELDS):  # 2
        phases.setdefault(row.pop("protocol_id"), []).append(PhaseRule(**row))

    done = {plan_id: {} for plan_id in ids}
    completions = Completion.objects.filter(plan_id__in=ids, date__range=(first, last))  # query 3
    for plan_id, key, date, count in completions.values_list("plan_id", "step_key", "date", "count"):
        done[plan_id][(key, date)] = count

    pain = {plan_id: {} for plan_id in ids}
    for plan_id, date, score in CheckIn.objects.filter(plan_id__in=ids, date__range=(first, last)).values_list(
        "plan_id", "date", "pain"
    ):  # query 4
        pain[plan_id][date] = score
    # Query 5: the latest pain score before the window, for the pain gates of its first days.
    latest_before = CheckIn.objects.filter(plan=OuterRef("pk"), date__lt=first).order_by("-date").values("pain")[:1]
    pain_before = dict(
        RecoveryPlan.objects.filter(pk__in=ids)
        .annotate(pain_before=Subquery(latest_before))
        .values_list("pk", "pain_before")
    )

    excused = {plan_id: set() for plan_id in ids}
    for plan_id, date in ExcusedDay.objects.filter(plan_id__in=ids, date__range=(first, last)).values_list(
        "plan_id", "date"
    ):  # query 6
        excused[plan_id].add(date)

    return {
        plan.pk: PlanFacts(
            race_date=plan.race_date,
            steps=steps.get(plan.pk, []),
            phases=phases.get(plan.protocol_id, []),
            cleared_on=plan.cleared_to_run_on,
            pain_by_date=pain[plan.pk],
            pain_before=pain_before.get(plan.pk),
            done=done[plan.pk],
            excused=excused[plan.pk],
        )
        for plan in plans
    }


def facts_for_plan(plan, first, last):
    return facts_for_plans([plan], first, last)[plan.pk]

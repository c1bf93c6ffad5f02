"""Load what the rules need about plans in a fixed number of queries, whatever the length of their history."""

from dataclasses import dataclass

from django.db.models import CharField, IntegerField, OuterRef, Q, Subquery, Value

from recovery import content_cache
from recovery.models import CheckIn, Completion, ExcusedDay, Phase, PlanStep, RecoveryPlan
from recovery.rules import PhaseRule, PlanFacts, StepRule

STEP_RULE_FIELDS = [
    "key", "label", "position", "first_day", "last_day", "doses_per_day", "times_per_week",
    "gate", "gate_pain_max", "valid_from", "valid_until",
]  # fmt: skip
STEP_INFO_FIELDS = ["id", "instruction", "tip__slug", "tip__title"]
PHASE_RULE_FIELDS = ["name", "position", "first_day", "gate", "gate_pain_max"]
STEP_FIELDS = [*STEP_RULE_FIELDS, *STEP_INFO_FIELDS]


@dataclass(frozen=True)
class StepInfo:
    """What the patient's pages show of a step besides its rules."""

    id: int
    instruction: str
    tip_slug: str
    tip_title: str


def _step_rows(plan_ids):
    # Ordered here rather than by PlanStep.Meta, whose "plan" would join every plan to sort by its date.
    rows = (
        PlanStep.objects.filter(plan_id__in=plan_ids)
        .order_by("plan_id", "position", "valid_from")
        .values_list("plan_id", *STEP_FIELDS)
    )
    by_plan = {}
    for plan_id, *values in rows:
        by_plan.setdefault(plan_id, []).append(tuple(values))
    return by_plan


def _phase_rows(protocol_ids):
    by_protocol = {}
    for protocol_id, *values in Phase.objects.filter(protocol_id__in=protocol_ids).values_list(
        "protocol_id", *PHASE_RULE_FIELDS
    ):
        by_protocol.setdefault(protocol_id, []).append(tuple(values))
    return by_protocol


def _step_rule(values):
    rule = dict(zip(STEP_FIELDS, values, strict=True))
    info = StepInfo(*(rule.pop(name) for name in STEP_INFO_FIELDS))
    return StepRule(**rule, ref=info)


def facts_for_plans(plans, first, last):
    """PlanFacts for each plan, by plan id, holding the days ``first`` to ``last``. Four queries in all, two
    when the shared cache holds the plans' steps and their protocols' phases (recovery/content_cache.py)."""
    plans = list(plans)
    ids = [plan.pk for plan in plans]

    # Queries 1 and 2: the steps and the phases, the content that rarely changes.
    step_rows = content_cache.rows_by_id("plan-steps", STEP_FIELDS, ids, _step_rows)
    steps = {plan_id: [_step_rule(values) for values in rows] for plan_id, rows in step_rows.items()}
    phase_rows = content_cache.rows_by_id(
        "phases", PHASE_RULE_FIELDS, [plan.protocol_id for plan in plans], _phase_rows
    )
    phases = {
        pk: [PhaseRule(**dict(zip(PHASE_RULE_FIELDS, values, strict=True))) for values in rows]
        for pk, rows in phase_rows.items()
    }

    # Query 3: the ticks and the days off, in one round trip. A day off comes back as a row with count 0, which
    # no tick can have (Completion's constraint "completion_count_positive").
    done = {plan_id: {} for plan_id in ids}
    excused = {plan_id: set() for plan_id in ids}
    ticks = Completion.objects.filter(plan_id__in=ids, date__range=(first, last)).values_list(
        "plan_id", "date", "step_key", "count"
    )
    days_off = (
        ExcusedDay.objects.filter(plan_id__in=ids, date__range=(first, last))
        .order_by()
        .annotate(no_key=Value("", output_field=CharField()), no_count=Value(0, output_field=IntegerField()))
        .values_list("plan_id", "date", "no_key", "no_count")
    )
    for plan_id, date, key, count in ticks.union(days_off, all=True):
        if count:
            done[plan_id][(key, date)] = count
        else:
            excused[plan_id].add(date)

    # Query 4: the pain scores of the window, plus each plan's latest one before it (for the pain gates of the
    # window's first days), picked by an uncorrelated subquery that the database runs once.
    latest_before = CheckIn.objects.filter(plan=OuterRef("pk"), date__lt=first).order_by("-date").values("pk")[:1]
    before_ids = RecoveryPlan.objects.filter(pk__in=ids).annotate(before=Subquery(latest_before)).values("before")
    pain = {plan_id: {} for plan_id in ids}
    pain_before = {}
    check_ins = (
        CheckIn.objects.filter(plan_id__in=ids)
        .filter(Q(date__range=(first, last)) | Q(pk__in=before_ids))
        .order_by()
        .values_list("plan_id", "date", "pain")
    )
    for plan_id, date, score in check_ins:
        if date < first:
            pain_before[plan_id] = score
        else:
            pain[plan_id][date] = score

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

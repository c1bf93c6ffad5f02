"""Load what the rules need about plans in a fixed number of queries, whatever the length of their history."""

import dataclasses
import datetime
from dataclasses import dataclass

from django.db import connection

from recovery import content_cache
from recovery.models import CheckIn, Completion, ExcusedDay, Phase, PlanStep, RecoveryPlan, SafetyThresholds
from recovery.rules import PhaseRule, PlanFacts, StepRule
from recovery.safety import Thresholds

# StepRule's own fields, in its order: a row's values go to it by position (_step_rule).
STEP_RULE_FIELDS = [field.name for field in dataclasses.fields(StepRule) if field.name != "ref"]
STEP_INFO_FIELDS = ["id", "instruction", "tip__slug", "tip__title", "tip__published", "tailored"]
PHASE_RULE_FIELDS = ["name", "position", "first_day", "gate", "gate_pain_max", "description"]
STEP_FIELDS = [*STEP_RULE_FIELDS, *STEP_INFO_FIELDS]


@dataclass(frozen=True)
class StepInfo:
    """What the patient's pages show of a step besides its rules."""

    id: int
    instruction: str
    tip_slug: str
    tip_title: str
    tip_published: bool  # an unpublished tip (taken back for review) has no page to link to
    tailored: bool  # set for this patient by a clinician: clinical, so the front desk's sheet does not print it


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
    # By position rather than by name: the clinicians' list makes 750 of these per page (docs/BENCHMARKS.md).
    split = len(STEP_RULE_FIELDS)
    return StepRule(*values[:split], ref=StepInfo(*values[split:]))


TICK, DAY_OFF, PAIN, PAIN_BEFORE = "tick", "day off", "pain", "pain before"
# The clinic's stop level of the pain traffic light (SafetyThresholds.alert_pain_from): a row of its own in the
# same round trip, as a stop holds the gated steps (rules.step_lock).
STOP_LEVEL = "stop level"
# A check-in row's key when it reported a warning sign (any red flag), else NULL.
WARNING = "warning"
# A day off's key when the clinic wrote it at the end of a pause, else NULL.
ON_HOLD = "on hold"


def _daily_rows(plan_ids, first, last):
    """The plans' ticks, days off and pain scores from ``first`` to ``last``, and each plan's latest pain score
    before ``first`` (the pain gates of the window's first days), as (kind, plan id, date, step key, number); a
    check-in's "step key" is ``WARNING`` when it reported a warning sign, a day off's ``ON_HOLD`` when a pause wrote it.
    Last, the clinic's stop level (``STOP_LEVEL``, plan and date NULL).

    Written in SQL because it runs on every patient's page: the same four reads built with the ORM (a union and
    a correlated subquery) cost about 1.6 ms of Python on each request, this about 0.1 ms (docs/BENCHMARKS.md).
    The latest score before the window comes from a subquery the database runs once per plan, on the
    (plan, date) index of check-ins.
    """
    ops = connection.ops
    ids = ", ".join(["%s"] * len(plan_ids))
    ticks, days_off = Completion._meta.db_table, ExcusedDay._meta.db_table
    check_ins, plans = CheckIn._meta.db_table, RecoveryPlan._meta.db_table
    thresholds = SafetyThresholds._meta.db_table
    warned = " OR ".join(ops.quote_name(CheckIn._meta.get_field(name).column) for name in CheckIn.RED_FLAG_FIELDS)
    warning = f"CASE WHEN {warned} THEN '{WARNING}' END"
    sql = f"""
        SELECT '{TICK}', "plan_id", "date", "step_key", "count" FROM "{ticks}"
         WHERE "plan_id" IN ({ids}) AND "date" BETWEEN %s AND %s
        UNION ALL
        SELECT '{DAY_OFF}', "plan_id", "date", CASE WHEN "on_hold" THEN '{ON_HOLD}' END, NULL FROM "{days_off}"
         WHERE "plan_id" IN ({ids}) AND "date" BETWEEN %s AND %s
        UNION ALL
        SELECT '{PAIN}', "plan_id", "date", {warning}, "pain" FROM "{check_ins}"
         WHERE "plan_id" IN ({ids}) AND "date" BETWEEN %s AND %s
        UNION ALL
        SELECT '{PAIN_BEFORE}', "plan_id", "date", {warning}, "pain" FROM "{check_ins}"
         WHERE "id" IN (SELECT (SELECT earlier."id" FROM "{check_ins}" earlier
                                 WHERE earlier."plan_id" = plan."id" AND earlier."date" < %s
                                 ORDER BY earlier."date" DESC LIMIT 1)
                          FROM "{plans}" plan WHERE plan."id" IN ({ids}))
        UNION ALL
        SELECT '{STOP_LEVEL}', NULL, NULL, NULL, "alert_pain_from" FROM "{thresholds}" WHERE "id" = 1
    """  # only placeholders and the models' table names are put in: every value goes as a parameter
    first, last = ops.adapt_datefield_value(first), ops.adapt_datefield_value(last)
    params = [*plan_ids, first, last] * 3 + [first, *plan_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _as_date(value):
    # PostgreSQL returns dates; SQLite (the first-run database) may return the ISO text it stores.
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def facts_for_plans(plans, first, last):
    """PlanFacts for each plan, by plan id, holding the days ``first`` to ``last``. Three queries in all, one
    when the shared cache holds the plans' steps and their protocols' phases (recovery/content_cache.py)."""
    plans = list(plans)
    if not plans:
        return {}
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

    # Query 3: what changes every day, in one round trip.
    done = {plan_id: {} for plan_id in ids}
    excused = {plan_id: set() for plan_id in ids}
    pain = {plan_id: {} for plan_id in ids}
    warned = {plan_id: set() for plan_id in ids}
    held = {plan_id: set() for plan_id in ids}
    pain_before, warned_before = {}, set()
    stop_pain_from = Thresholds.alert_pain_from  # the default, until the clinic's record exists
    for kind, plan_id, date, key, number in _daily_rows(ids, first, last):
        date = _as_date(date)
        if kind == TICK:
            done[plan_id][(key, date)] = number
        elif kind == DAY_OFF:
            excused[plan_id].add(date)
            if key == ON_HOLD:
                held[plan_id].add(date)
        elif kind == PAIN:
            pain[plan_id][date] = number
            if key == WARNING:
                warned[plan_id].add(date)
        elif kind == PAIN_BEFORE:
            pain_before[plan_id] = number
            if key == WARNING:
                warned_before.add(plan_id)
        else:
            stop_pain_from = number

    return {
        plan.pk: PlanFacts(
            race_date=plan.race_date,
            steps=steps.get(plan.pk, []),
            phases=phases.get(plan.protocol_id, []),
            cleared_on=plan.cleared_to_run_on,
            pain_by_date=pain[plan.pk],
            pain_before=pain_before.get(plan.pk),
            warned_on=warned[plan.pk],
            warned_before=plan.pk in warned_before,
            done=done[plan.pk],
            excused=excused[plan.pk],
            joined_on=plan.started_on,
            paused_on=plan.paused_on,
            held=held[plan.pk],
            stop_pain_from=stop_pain_from,
        )
        for plan in plans
    }


def facts_for_plan(plan, first, last):
    return facts_for_plans([plan], first, last)[plan.pk]


def step_key_of(plan, step_id):
    """The key of the plan's step ``step_id`` (any of its versions), or None when the plan has no such step.

    Read from the same rows as the facts, so with the shared cache a tick finds its step without a query.
    """
    rows = content_cache.rows_by_id("plan-steps", STEP_FIELDS, [plan.pk], _step_rows).get(plan.pk, [])
    id_at, key_at = STEP_FIELDS.index("id"), STEP_FIELDS.index("key")
    return next((row[key_at] for row in rows if row[id_at] == step_id), None)

"""The welcome sheet's first week: what the patient's plan asks of them, in plain words, for reception to print."""

import datetime

from recovery import rules
from recovery.facts import facts_for_plan


def first_week(plan, from_day):
    """The plan's tasks over the seven days from day ``from_day``, one entry per step, in plain words. Gates are
    described, never judged against the patient's pain: reception sees nothing clinical."""
    first = plan.race_date + datetime.timedelta(days=from_day)
    facts = facts_for_plan(plan, first, first + datetime.timedelta(days=6))
    entries = {}
    for day in range(from_day, from_day + 7):
        for step in rules.steps_on(facts, facts.date_of(day)):
            entry = entries.setdefault(step.key, {"step": step, "days": []})
            entry["days"].append(day)
    lines = []
    for entry in sorted(entries.values(), key=lambda entry: entry["step"].position):
        step, days = entry["step"], entry["days"]
        when = _when(step, days, from_day)
        unlock = rules.Lock(step.gate, step.gate_pain_max).message if step.gate != rules.Gate.NONE else ""
        lines.append(
            {
                "label": step.label,
                "instruction": step.ref.instruction if step.ref else "",
                "how_often": step.how_often,
                "when": when,
                "unlock": unlock,
            }
        )
    return lines


def _when(step, days, from_day):
    """The step's own days as they fall in this week: it starts or ends this week, or runs through it (a weekly
    step on any of its days)."""
    starts = step.first_day > from_day
    ends = step.last_day is not None and step.last_day < from_day + 6
    first, last = _day_name(days[0]), _day_name(days[-1])
    if ends and step.first_day >= from_day:
        return f"on {first}" if days[0] == days[-1] else f"from {first} to {last}"
    if starts:
        return f"from {first}"
    if ends:
        return f"until {last}"
    return "any day this week" if step.is_weekly else "every day this week"


def _day_name(day):
    return "race day" if day == 0 else f"day {day}"

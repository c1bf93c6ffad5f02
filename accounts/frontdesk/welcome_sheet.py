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
        if step.is_weekly:
            how_often = f"up to {step.times_per_week} times a week"  # fewer in a week with fewer days open
        elif step.doses_per_day > 1:
            how_often = f"{step.doses_per_day} times a day"
        else:
            how_often = "once a day"
        when = "every day this week" if len(days) == 7 else _day_span(days)
        unlock = rules.Lock(step.gate, step.gate_pain_max).message if step.gate != rules.Gate.NONE else ""
        lines.append(
            {
                "label": step.label,
                "instruction": step.ref.instruction if step.ref else "",
                "how_often": how_often,
                "when": when,
                "unlock": unlock,
            }
        )
    return lines


def _day_span(days):
    first, last = days[0], days[-1]
    name = {0: "race day"}.get(first, f"day {first}")
    if first == last:
        return f"on {name}"
    if first == 0:
        return f"from race day to day {last}"
    return f"from day {first} to day {last}"

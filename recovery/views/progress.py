"""Progress: the day and phase, the streak, adherence, a four-week calendar, the pain trend and the road ahead."""

import datetime

from django.shortcuts import render

from recovery import rules
from recovery.charts import pain_chart_for
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.views.access import plan_required

CALENDAR_WEEKS = 4
# What a screen reader says of each calendar square (the colour says it to the eye; the legend is on the page).
LEVEL_WORDS = {
    rules.Level.FULL: "everything done",
    rules.Level.PART: "some done",
    rules.Level.NONE: "nothing done",
    rules.Level.EXCUSED: "day off",
    rules.Level.PAUSED: "on hold",
    rules.Level.REST: "nothing due",
    rules.Level.FUTURE: "still to come",
    rules.Level.BEFORE: "before your race",
    rules.Level.UNTRACKED: "before you joined",
}

# A mark in each square, so that no one needs to tell the greens apart (WCAG 1.4.1: not by colour alone).
LEVEL_MARKS = {
    rules.Level.FULL: "✓",
    rules.Level.PART: "½",
    rules.Level.NONE: "○",
    rules.Level.EXCUSED: "–",
    rules.Level.PAUSED: "–",
}


def _square(date, level, today):
    """(date, level, mark, words) of a calendar square; today's is still under way."""
    words = LEVEL_WORDS[level]
    if date == today:
        words += " so far (today)" if level in (rules.Level.PART, rules.Level.NONE) else " (today)"
    return date, level, LEVEL_MARKS.get(level, ""), words


@plan_required
def progress(request):
    plan = request.plan
    today = clinic_today()
    facts = facts_for_plan(plan, plan.race_date, today)
    week_ago = today - datetime.timedelta(days=6)
    series, chart = pain_chart_for(facts, today)
    scored = {}  # one memo for the four questions below: each past day is scored once, not up to four times
    context = {
        "plan": plan,
        "today": today,
        "day_number": facts.day_number(today),
        "phase": rules.phase_on(facts, today),
        "streak": rules.streak(facts, today, memo=scored),
        "streak_waits_on_today": rules.streak_waits_on_today(facts, today, memo=scored),
        "week_percent": rules.percent(rules.adherence(facts, week_ago, today, today, memo=scored)),
        "overall_percent": rules.percent(rules.adherence(facts, plan.race_date, today, today, memo=scored)),
        "calendar": [
            [_square(date, level, today) for date, level in week]
            for week in rules.calendar(facts, today, weeks=CALENDAR_WEEKS, memo=scored)
        ],
        "series": series,
        "chart": chart,
        "road": rules.road_ahead(facts, today),
    }
    return render(request, "recovery/progress.html", context)

"""Progress: the day and phase, the streak, adherence, a four-week calendar and the pain trend."""

import datetime

from django.shortcuts import render

from recovery import rules
from recovery.charts import pain_chart
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import SafetyThresholds
from recovery.views.access import plan_required

CALENDAR_WEEKS = 4


def _percent(ratio):
    return None if ratio is None else round(ratio * 100)


@plan_required
def progress(request):
    plan = request.plan
    today = clinic_today()
    facts = facts_for_plan(plan, plan.race_date, today)
    week_ago = today - datetime.timedelta(days=6)
    chart_first = today - datetime.timedelta(days=CALENDAR_WEEKS * 7 - 1)
    series = rules.pain_series(facts.pain_by_date, rules.last_days(today, CALENDAR_WEEKS * 7))
    thresholds = SafetyThresholds.current()
    context = {
        "plan": plan,
        "today": today,
        "day_number": facts.day_number(today),
        "phase": rules.phase_on(facts, today),
        "streak": rules.streak(facts, today),
        "week_percent": _percent(rules.adherence(facts, week_ago, today, today)),
        "overall_percent": _percent(rules.adherence(facts, plan.race_date, today, today)),
        "calendar": rules.calendar(facts, today, weeks=CALENDAR_WEEKS),
        "series": series,
        "chart": pain_chart(
            series,
            chart_first,
            today,
            ease_off_from=thresholds.ease_off_pain_from,
            alert_from=thresholds.alert_pain_from,
        ),
    }
    return render(request, "recovery/progress.html", context)

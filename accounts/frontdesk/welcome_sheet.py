"""The welcome sheet: the patient's link to choose a password and the first week of their plan, in plain words,
for reception to print, one patient's or a group's."""

import datetime

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.safestring import mark_safe

from accounts.frontdesk.invitations import invitation_expires_on, invitation_link
from recovery import rules
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan


def sheet_context(patient, plan, *, returning=False, facts=None):
    """What one sheet shows. ``plan``: the patient's open plan, or None; ``facts``: the plan's, when the caller
    loaded a group's at once (only its steps are read)."""
    qr_svg = link_expires_on = None
    if patient.is_active and not patient.is_activated and patient.invited_at is not None:
        # A fresh token on the current invitation: a resend (new invited_at) kills this sheet's code too.
        qr = segno.make(invitation_link(patient), error="m")
        qr_svg = mark_safe(qr.svg_inline(scale=4, border=4, svgclass="qr-code", lineclass=None, omitsize=True))
        link_expires_on = invitation_expires_on()
    # From race day, or from today for a patient enrolled later: the ice of days 0–2 is no news on day 10.
    week_from_day = max(plan.day_number(clinic_today()), 0) if plan else 0
    week, tailored_step_count = first_week(plan, week_from_day, facts) if plan else ([], 0)
    return {
        "patient": patient,
        "plan": plan,
        "returning": returning,  # a runner back after another race: "Welcome back"
        "week": week,
        "tailored_step_count": tailored_step_count,
        "week_from_day": week_from_day,
        "qr_svg": qr_svg,
        "link_expires_on": link_expires_on,
        "site_url": settings.SITE_URL,
        "login_url": settings.SITE_URL + reverse("accounts:login"),
    }


def first_week(plan, from_day, facts=None):
    """The plan's tasks over the seven days from day ``from_day``, one entry per step, in plain words, and how
    many steps a clinician set for this patient. Reception sees nothing clinical: gates are described, never
    judged against the patient's pain, and a tailored step's words (a clinician's, often a diagnosis) are left
    to the patient's own pages."""
    first = plan.race_date + datetime.timedelta(days=from_day)
    facts = facts or facts_for_plan(plan, first, first + datetime.timedelta(days=6))
    entries = {}
    for day in range(from_day, from_day + 7):
        for step in rules.steps_on(facts, facts.date_of(day)):
            entry = entries.setdefault(step.key, {"step": step, "days": [], "tailored": False})
            entry["days"].append(day)
            entry["tailored"] |= step.ref.tailored  # from a day within the week on: the week's words would be wrong
    lines, tailored = [], 0
    for entry in sorted(entries.values(), key=lambda entry: entry["step"].position):
        step, days = entry["step"], entry["days"]
        if entry["tailored"]:
            tailored += 1
            continue
        when = _when(step, days, from_day)
        unlock = rules.Lock(step.gate, step.gate_pain_max).message if step.gate != rules.Gate.NONE else ""
        lines.append(
            {
                "label": step.label,
                "instruction": step.ref.instruction,
                "how_often": step.how_often,
                "when": when,
                "unlock": unlock,
            }
        )
    return lines, tailored


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

"""Today's checklist: see the day's tasks, tick doses off (or undo them), and mark a day off."""

import datetime
import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from clinic.dates import day
from clinic.post_only import post_only
from recovery import rules, safety
from recovery.checkins import compression_numbness_report
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan, step_key_of
from recovery.models import CheckIn, ExcusedDay
from recovery.rules import CHECK_IN_STEP_KEY, COMPRESSION_STEP_KEY
from recovery.services import Refused, completion_set, day_excuse, day_unexcuse
from recovery.views.access import plan_required

DAY_NAMES = {0: "Today", 1: "Yesterday", 2: "The day before"}


def numbness_advice(date, today):
    # The clinic's own tip (the "compression" tip of the sheet), quoted word for word. Reported for an earlier day
    # (the checklist reaches two days back), the advice is for now: "if you still feel it".
    first = "Take your compression off now."
    if date != today:
        first = "If you still feel it, take your compression off now."
    return (
        f"{first} Our tip sheet says: “If you experience any tingling or numbness, make sure "
        "the compression is just right—not too tight—and take off the compression gear.” We have let the clinic know. "
        "If the feeling doesn't go away once it is off, or your leg feels weak, "
        f"call us on {settings.CLINIC_PHONE}."
    )


NUMBER_ERRORS = {"invalid": "Choose a whole number.", "required": "Choose a number."}
NEW_DAY = (
    "It's a new day: here is today's plan. Nothing was ticked. If you did it before midnight, tick it under "
    "“Yesterday”."
)


class TickForm(forms.Form):
    date = forms.DateField(error_messages={"invalid": "That date isn't one we recognise.", "required": "Choose a day."})
    count = forms.IntegerField(error_messages=NUMBER_ERRORS)
    # The count of doses done that the page showed (completion_set). Left out by a page from before it was sent:
    # the tick is then taken as it comes.
    shown = forms.IntegerField(required=False, error_messages=NUMBER_ERRORS)
    # The page render's token (services.completion_set): tells a double tap from another device's stale page.
    tap = forms.CharField(required=False)

    def clean_tap(self):
        # Only ever compared with a stored one: an unknown (or tampered) token is another page's, never an error.
        return self.cleaned_data["tap"][:24]


class DayForm(forms.Form):
    date = forms.DateField(error_messages={"invalid": "That date isn't one we recognise.", "required": "Choose a day."})
    reason = forms.CharField(max_length=200, required=False)


def _chosen_date(request, today):
    """The day the checklist shows: today, or ?back=1 (yesterday) or ?back=2 (the day before); anything else is today
    or the furthest day back."""
    try:
        back = int(request.GET.get("back", 0))
    except ValueError:
        back = 0
    return today - datetime.timedelta(days=min(max(back, 0), rules.DAYS_BACK_EDITABLE))


def _day_context(plan, date, today, facts=None):
    # The shown day's week, up to today: a "3 times a week" step counts the sessions of its whole week.
    facts = facts or facts_for_plan(plan, date - rules.WEEK_REACH, today)
    tasks = rules.tasks_on(facts, date, today)
    phase = rules.phase_on(facts, date)
    back = (today - date).days
    held = date in facts.held  # a day off written at the end of a pause: not the patient's to take back
    open_tasks = [task for task in tasks if task.lock is None]  # a locked task is not the patient's to do
    done_count = sum(1 for task in open_tasks if task.complete)
    stop = facts.stop_on(date)
    stop_check_in_date = facts.latest_check_in_date(date) if stop else None  # the check-in the banner repeats
    # Announced on the day itself only: "Yesterday you started…" is old news.
    new_phase = rules.phase_starting_on(facts, date) if date == today else None
    return {
        "plan": plan,
        "date": date,
        "today": today,
        "back": back,
        "tap": secrets.token_urlsafe(9),  # this render's, sent with each tick (TickForm.tap)
        "day_name": DAY_NAMES[back],
        "day_number": facts.day_number(date),
        "phase": phase,
        "new_phase": new_phase,
        # The phase waiting for the sign-off starts because it came today: its news says so.
        "cleared_today": new_phase is not None and new_phase.gate == rules.Gate.CLEARANCE and facts.cleared_on == date,
        "tasks": tasks,
        "open_tasks": open_tasks,
        "locked_count": len(tasks) - len(open_tasks),
        # A new patient's first step: the tasks that wait for a first pain score open with today's check-in.
        "waiting_for_check_in": sum(1 for task in tasks if task.lock and task.lock.no_score) if date == today else 0,
        "done_count": done_count,
        "all_done": bool(open_tasks) and done_count == len(open_tasks),
        "excused": date in facts.excused,
        # The patient's own words for a day off, read only on such a day (one query there, none elsewhere).
        "excused_reason": _excused_reason(plan, date) if date in facts.excused and date not in facts.held else "",
        "held": held,
        "paused": facts.paused(date) and not held,  # on hold now: the banner with the clinic's number
        # The stop screen's advice, echoed where the exercises are, while the latest check-in's stands: a warning
        # sign, or pain at the alert level (PlanFacts.stop_on). No "Well done!" under it.
        "stop": stop,
        "stop_pain": facts.latest_pain(date) if stop == safety.StandingStop.PAIN else None,
        # Whose words the banner repeats: the next morning it is yesterday's check-in, not "your check-in".
        "stop_source": _check_in_named(stop_check_in_date, today) if stop else "",
        "stop_today": stop and stop_check_in_date == today,
        # As urgent as the check-in said it was (999, NHS 111 or the clinic): one query, only under a warning sign.
        "stop_flags": _warning_flags(plan, date) if stop == safety.StandingStop.WARNING else None,
        "days": [{"back": n, "name": DAY_NAMES[n]} for n in range(rules.DAYS_BACK_EDITABLE + 1)],
    }


def _check_in_named(check_in_date, today):
    if check_in_date == today:
        return "today's check-in"
    if check_in_date == today - datetime.timedelta(days=1):
        return "yesterday's check-in"
    if check_in_date is None:
        return "your last check-in"
    return f"your check-in of {day(check_in_date, 'l j F')}"


def _warning_flags(plan, date):
    """What the stop screen said of the warning signs in the latest check-in on or before ``date``."""
    latest = CheckIn.objects.filter(plan=plan, date__lte=date).order_by("-date").first()
    return safety.stop_advice(latest.red_flags() if latest else [])


def _excused_reason(plan, date):
    return ExcusedDay.objects.filter(plan=plan, date=date).values_list("reason", flat=True).first() or ""


@plan_required
def today(request):
    today = clinic_today()
    date = _chosen_date(request, today)
    return render(request, "recovery/today.html", _day_context(request.plan, date, today))


def _day_over(request, date, today):
    """Whether the form was sent from a page that said "Today" (``back`` 0, with no date on the page) for a day now
    over: left open overnight. A page of yesterday names its date, so a tick there is meant for it whenever it is
    sent; a page from before ``back`` was sent is taken at its word."""
    return request.POST.get("back") == "0" and date != today


def _new_day(request):
    """Today's page, as a new load from its top: htmx's reload would keep the old day's scroll position, far below
    the message saying why nothing was ticked."""
    if request.htmx:
        return HttpResponseClientRedirect(reverse("recovery:today"))
    return redirect("recovery:today")


def _back_to_day(date, today):
    return f"{reverse('recovery:today')}?back={(today - date).days}" if date != today else reverse("recovery:today")


@post_only("recovery:today")
@plan_required
def tick(request, step_id):
    """Set how many doses of a step were done on a day. Only the patient's own steps exist here: others are 404."""
    step_key = step_key_of(request.plan, step_id)
    if step_key is None:
        raise Http404("That task isn't on your plan.")
    today = clinic_today()
    form = TickForm(request.POST)
    error = None
    advice = None
    facts = None  # after a tick, the service's facts already hold the new count
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
        date = today
    elif step_key == CHECK_IN_STEP_KEY:
        # Saving the check-in ticks its task: ticked (or undone) by hand it would say "checked in" with no answers.
        error = "This one ticks itself off when you save today's check-in."
        date = form.cleaned_data["date"]
    elif _day_over(request, form.cleaned_data["date"], today):
        # Not filed under yesterday while the page says "Today": today's page comes instead, from its top, and
        # nothing is ticked (_new_day). Numbness is news about now: the clinic hears of it today.
        if step_key == COMPRESSION_STEP_KEY and request.POST.get("numbness") == "yes":
            alert, _told = compression_numbness_report(plan=request.plan, date=today, today=today)
            messages.warning(request, numbness_advice(alert.date, today))
        messages.info(request, NEW_DAY, extra_tags="announce")
        return _new_day(request)
    else:
        date = form.cleaned_data["date"]
        if step_key == COMPRESSION_STEP_KEY and request.POST.get("numbness") == "yes":
            # The safety report stands even if the tick itself is refused (e.g. a paused plan).
            alert, _told = compression_numbness_report(plan=request.plan, date=date, today=today)
            advice = numbness_advice(alert.date, today)
        try:
            facts = completion_set(
                plan=request.plan,
                step_key=step_key,
                date=date,
                count=form.cleaned_data["count"],
                today=today,
                shown=form.cleaned_data["shown"],
                tap=form.cleaned_data["tap"],
            )
        except Refused as refusal:
            error = error or str(refusal)
    editable = rules.is_editable(date, today)
    if request.htmx and editable:
        context = _day_context(request.plan, date, today, facts)
        task = next((task for task in context["tasks"] if task.key == step_key), None)
        if task is None:
            raise Http404("That task isn't on your plan that day.")
        return render(
            request,
            "recovery/today.html#task-swap",
            {**context, "task": task, "error": error, "numbness_advice": advice},
        )
    if advice:
        messages.warning(request, advice)
    if error:
        # At the top of the page, not in the task's row: it names the task, and is read out first.
        label = request.plan.steps.filter(key=step_key).values_list("label", flat=True).first()
        messages.error(request, f"{label}: {error}" if label else error, extra_tags="announce")
    if not editable:
        # A page left open overnight: its day can no longer be changed, so the whole of today comes instead of a
        # row of today's checklist swapped into the old day's page.
        date = today
        if request.htmx:
            return HttpResponseClientRedirect(reverse("recovery:today"))
    # Without JavaScript the page comes back scrolled to the task just ticked, unless there is news at the top.
    anchor = "" if advice or error else f"#task-{step_key}"
    return redirect(_back_to_day(date, today) + anchor)


@post_only("recovery:today")
@plan_required
def excuse(request):
    """Mark a day off (e.g. ill), or take the mark back."""
    today = clinic_today()
    form = DayForm(request.POST)
    if not form.is_valid():
        if "date" in form.errors:
            messages.error(request, "Choose today or one of the two days before.")
        elif len(request.POST.get("reason", "")) > DayForm.base_fields["reason"].max_length:
            messages.error(request, "Please keep the reason to 200 letters or fewer, and try again.")
        else:  # a character no keyboard types (a NUL)
            messages.error(request, "The reason holds a character we can't keep. Please type it again.")
        return redirect("recovery:today")
    date = form.cleaned_data["date"]
    if _day_over(request, date, today):  # "Mark today as a day off" on a page left open overnight: not yesterday
        messages.info(request, "It's a new day: here is today's plan. Nothing was changed.", extra_tags="announce")
        return _new_day(request)
    try:
        if request.POST.get("undo"):
            day_unexcuse(plan=request.plan, date=date, today=today)
            # Read out and focused (templates/base.html): the page comes back at its top, the button gone.
            messages.success(request, "The day is back on your plan.", extra_tags="announce")
        else:
            day_excuse(plan=request.plan, date=date, today=today, reason=form.cleaned_data["reason"])
            # Not "Rest well": the reason may be a fever (the page below still asks for today's check-in).
            messages.success(
                request, "Marked as a day off. It won't count against your progress.", extra_tags="announce"
            )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("recovery:today")
    return redirect(_back_to_day(date, today))

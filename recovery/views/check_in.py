"""The daily check-in: how the hip feels today, the pain traffic light, and the stop screen.

Once a day, editable all that day (the clinic's day). The form carries the day it was shown for, and only today's is
saved: a page opened before midnight and sent after it is refused with a plain word (the answers kept, ready to save
for today), never filed under the new day unseen. Another day (or another patient's check-in) cannot be reached.
POST, redirect, GET: the page shows the day's result from the saved check-in, so a reload never resubmits.
"""

from django import forms
from django.forms.models import model_to_dict
from django.shortcuts import redirect, render

from accounts.middleware import UNSAVED_PATH_KEY
from clinic.forms import FocusFirstProblem, TextareaCountingLineBreaksOnce
from recovery import safety
from recovery.checkins import ANSWER_FIELDS, DayOver, check_in_save, day_over_alerts_raise, unsaved_check_in
from recovery.clock import clinic_today
from recovery.models import CheckIn, RecoveryPlan, SafetyThresholds
from recovery.services import Refused
from recovery.views.access import plan_required

PAIN_SCALE = range(11)


class CheckInForm(FocusFirstProblem, forms.ModelForm):
    # The day the page was shown for (a hidden field the template writes). Left out by a page from before it was
    # sent: today's, as then.
    date = forms.DateField(
        required=False,
        error_messages={
            "invalid": "We couldn't tell which day these answers were for. Nothing was saved: please save them again."
        },
    )
    pain = forms.TypedChoiceField(
        label="How much does your hip hurt right now?",
        choices=[(score, str(score)) for score in PAIN_SCALE],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "pain-input"}),
        error_messages={
            "required": "Choose how much your hip hurts, from 0 (no pain) to 10 (the worst pain you can imagine).",
            "invalid_choice": "Choose a whole number from 0 to 10.",
        },
    )

    class Meta:
        model = CheckIn
        fields = ANSWER_FIELDS
        labels = {
            "numbness": "Numbness or tingling in the leg",
            "swelling": "Swelling around the hip",
            "note": "Anything else you'd like us to know? (optional)",
        }
        help_texts = {"note": "For anything urgent, please phone us: notes are read in clinic hours."}
        widgets = {"note": TextareaCountingLineBreaksOnce(attrs={"rows": 3})}
        error_messages = {
            "note": {"max_length": "Please shorten your note to %(limit_value)d characters (it has %(show_value)d)."}
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CheckIn.RED_FLAG_FIELDS:
            self.fields[name].label = self.fields[name].label[:1].upper() + self.fields[name].label[1:]

    def symptom_fields(self):
        return [self["numbness"], self["swelling"]]

    def red_flag_fields(self):
        return [self[name] for name in CheckIn.RED_FLAG_FIELDS]


def _span(first, last):
    return str(first) if first == last else f"{first}–{last}"


def _result(check_in, thresholds):
    """What the page says about the day's saved check-in."""
    flags = check_in.red_flags()
    return {
        "check_in": check_in,
        "light": safety.pain_light(check_in.pain, thresholds),
        "stop": safety.must_stop(check_in.pain, flags, thresholds),
        **safety.stop_advice(flags),
        "red_flags": check_in.red_flag_words(),
    }


@plan_required
def check_in(request):
    plan = request.plan
    today = clinic_today()
    saved = CheckIn.objects.filter(plan=plan, date=today).first()
    day_over, day_over_alerted, reported = None, False, None
    thresholds = SafetyThresholds.current()
    if request.method == "POST":
        form = CheckInForm(request.POST)
        if form.is_valid():
            try:
                check_in_save(plan=plan, date=form.cleaned_data["date"] or today, data=form.cleaned_data, today=today)
            except DayOver as refusal:
                day_over = refusal.date  # said above the form, which keeps the answers
                answers = unsaved_check_in(plan=plan, data=form.cleaned_data, today=today)
                # Not saved, but a warning sign in it reaches the clinic now, whether or not it is sent again.
                day_over_alerted = bool(day_over_alerts_raise(answers=answers, day=day_over))
                # What those answers mean, shown as a saved check-in's would be: the stop screen and its advice.
                reported = _result(answers, thresholds)
            except Refused as refusal:
                form.add_error(None, str(refusal))
            else:
                return redirect("recovery:check_in")
    else:
        form = CheckInForm(initial=model_to_dict(saved, fields=ANSWER_FIELDS) if saved else None)
    context = {
        # Sent after the session ended (accounts.middleware.UnsavedPostMiddleware): the answers shown are the ones
        # saved before, and the page says so first.
        "unsaved": request.method == "GET" and request.session.pop(UNSAVED_PATH_KEY, None) == request.path,
        "form": form,
        "today": today,
        "day_over": day_over,
        "day_over_alerted": day_over_alerted,
        "day_over_stop": bool(reported and reported["stop"]),
        "result": reported if reported and reported["stop"] else _result(saved, thresholds) if saved else None,
        "pain_scale": [
            (radio, safety.pain_light(score, thresholds)) for score, radio in zip(PAIN_SCALE, form["pain"], strict=True)
        ],
        "green_max": thresholds.ease_off_pain_from - 1,
        # On hold, "carry on with your plan" would contradict Today's banner ("call us before you carry on").
        "paused": plan.status == RecoveryPlan.Status.PAUSED,
        "spans": {
            "green": _span(0, thresholds.ease_off_pain_from - 1),
            "amber": _span(thresholds.ease_off_pain_from, thresholds.alert_pain_from - 1),
            "red": _span(thresholds.alert_pain_from, 10),
        },
    }
    return render(request, "recovery/check_in.html", context)

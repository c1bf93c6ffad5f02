"""Forms for tailoring one patient's plan from the admin."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils.text import capfirst, slugify

from accounts.roles import Role
from clinic.forms import (
    KeepsWhatItShowed,
    TextareaCountingLineBreaksOnce,
    last_saved_in_the_admin,
    quoted,
)
from recovery import care
from recovery.clock import clinic_today
from recovery.models import Gate, PlanStep, Protocol, Tip
from recovery.models.content import MAX_DAY
from recovery.services import race_date_problem

DAY_ERRORS = {
    "max_value": f"Day numbers go up to {MAX_DAY} (two years after the race).",
    "min_value": "Day numbers start at 0, race day.",
}

DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


# How far ahead a change may be set to start: further than a plan runs is a slip of the keyboard (31 Dec 9999).
LATEST_START = 365


class StartsWithinAYear:
    """A tailoring form's "From" date: today or later (the service says so), and not beyond a year from today."""

    def clean_from_date(self):
        from_date = self.cleaned_data["from_date"]
        if from_date > self.today + datetime.timedelta(days=LATEST_START):
            raise forms.ValidationError("Choose a date within the next year.")
        return from_date


class PlanFormBase(StartsWithinAYear, forms.Form):
    def __init__(self, *args, plan, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.today = today


class StepChangeForm(PlanFormBase):
    STOP, CHANGE = "stop", "change"

    key = forms.ChoiceField(label="Step")
    from_date = forms.DateField(
        label="From", widget=DATE_INPUT, help_text="Today or later. Days before keep the rules they were done under."
    )
    action = forms.ChoiceField(
        choices=[(CHANGE, "Change it from this date"), (STOP, "Stop it from this date")], widget=forms.RadioSelect
    )
    doses_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=12, help_text="Leave empty to keep what it is."
    )
    times_per_week = forms.IntegerField(required=False, min_value=1, max_value=6)
    first_day = forms.IntegerField(
        required=False, min_value=0, max_value=MAX_DAY, error_messages=DAY_ERRORS,
        help_text="Day number; race day is day 0.",
    )  # fmt: skip
    last_day = forms.IntegerField(required=False, min_value=0, max_value=MAX_DAY, error_messages=DAY_ERRORS)
    gate_pain_max = forms.IntegerField(
        label="Pain limit",
        required=False,
        min_value=0,
        max_value=10,
        error_messages={
            "min_value": "Give a pain score from 0 to 10.", "max_value": "Give a pain score from 0 to 10.",
        },
        help_text="For a step that waits for the pain score: it opens on days the latest score is at most this.",
    )  # fmt: skip
    label = forms.CharField(required=False, max_length=120)
    instruction = forms.CharField(
        required=False,
        max_length=300,
        widget=TextareaCountingLineBreaksOnce(attrs={"rows": 3, "cols": 60}),
        help_text="Leave empty to keep the step's words: each step's words now are listed under this form.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        in_force = self.plan.steps.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=self.today))
        self.versions = list(in_force.order_by("position", F("valid_from").asc(nulls_first=True)))
        # Each step as it stands today (or as it will first be, for one that starts later).
        today_versions = {}
        for step in self.versions:
            today_versions.setdefault(step.key, step)
        day = self.plan.day_number(self.today)
        self.fields["key"].choices = [(key, _described(step, day)) for key, step in today_versions.items()]
        # What the patient reads under each step now: a change of words starts from them (the page lists them).
        self.current_words = [(step.label, step.instruction) for step in today_versions.values()]
        self.fields["from_date"].initial = self.today
        self.fields["action"].initial = self.CHANGE

    def clean(self):
        data = super().clean()
        current = self._version_on(data.get("key"), data.get("from_date") or self.today)
        # A day left empty keeps the step's own, so the pair is checked as it would be after the change.
        first = data.get("first_day") if data.get("first_day") is not None else getattr(current, "first_day", None)
        last = data.get("last_day") if data.get("last_day") is not None else getattr(current, "last_day", None)
        if first is not None and last is not None and last < first:
            field = "last_day" if data.get("last_day") is not None else "first_day"
            self.add_error(field, f"The step would end (day {last}) before it starts (day {first}). Change both days.")
        if data.get("action") == self.CHANGE and not self.errors and not self.changes():
            raise forms.ValidationError(
                "Say what changes: doses, times a week, days, pain limit, label or instruction."
            )
        if data.get("action") == self.STOP and not self.errors and self.changes():
            raise forms.ValidationError(
                "Stopping takes the step off the plan, so what you typed below would not be kept: clear it, or "
                "choose “Change it from this date”."
            )
        return data

    def _version_on(self, key, date):
        """The version a change from ``date`` starts from: in force that day, else the first to come."""
        versions = [step for step in self.versions if step.key == key]
        on_date = [step for step in versions if step.valid_from is None or step.valid_from <= date]
        if on_date:
            return on_date[-1]
        return versions[0] if versions else None

    def changes(self):
        names = ("doses_per_day", "times_per_week", "first_day", "last_day", "gate_pain_max", "label", "instruction")
        return {name: self.cleaned_data[name] for name in names if self.cleaned_data.get(name) not in (None, "")}

    def apply(self):
        data = self.cleaned_data
        if data["action"] == self.STOP:
            return care.plan_step_stop(plan=self.plan, key=data["key"], from_date=data["from_date"], today=self.today)
        return care.plan_step_change(
            plan=self.plan, key=data["key"], from_date=data["from_date"], today=self.today, **self.changes()
        )

    def success_message(self):
        data = self.cleaned_data
        verb = "stops" if data["action"] == self.STOP else "changes"
        versions = self.plan.steps.filter(key=data["key"]).order_by(F("valid_from").desc(nulls_last=True))
        label = versions.values_list("label", flat=True).first()
        name = label or data["key"]
        what = ""
        if data["action"] == self.CHANGE:
            # Said in the message and so in the plan's History: what the patient's step became, not only when.
            what = " (" + ", ".join(CHANGE_WORDS[name].format(value) for name, value in self.changes().items()) + ")"
        return f"The step “{name}” {verb} from {data['from_date']:%d %b %Y}{what}. Earlier days are unchanged."


CHANGE_WORDS = {
    "doses_per_day": "{} a day",
    "times_per_week": "{} a week",
    "first_day": "first day {}",
    "last_day": "last day {}",
    "gate_pain_max": "pain limit {}/10",
    "label": "label “{}”",
    "instruction": "instruction “{}”",
}


def _described(step, today_day):
    """A step as the choice shows it: its label and key, its days and how often, as they stand (and whether its
    days are over: only a later last day brings it back)."""
    days = f"days {step.first_day}–{step.last_day}" if step.last_day is not None else f"from day {step.first_day}"
    often = f"{step.times_per_week} a week" if step.times_per_week else f"{step.doses_per_day} a day"
    over = ", over" if step.last_day is not None and step.last_day < today_day else ""
    pain = f", opens at pain {step.gate_pain_max}/10 or less" if step.gate == Gate.PAIN else ""
    return f"{step.label} ({step.key}): {days}, {often}{pain}{over}"


class StepAddForm(StartsWithinAYear, forms.ModelForm):
    from_date = forms.DateField(label="From", widget=DATE_INPUT, help_text="Today or later.")

    class Meta:
        model = PlanStep
        fields = [
            "tip", "key", "label", "instruction", "first_day", "last_day", "doses_per_day", "times_per_week",
            "gate", "gate_pain_max",
        ]  # fmt: skip

    def __init__(self, *args, plan, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.today = today
        tip = self.fields["tip"]
        tip.queryset = Tip.objects.published()
        # The sheet has a recovery and a prevention tip of the same title: say which is which.
        tip.label_from_instance = lambda tip: f"{tip.title} ({tip.get_kind_display().lower()})"
        tip.error_messages["required"] = "Choose the tip that explains this step to the patient."
        key = self.fields["key"]
        key.required = False
        key.help_text = "Optional: ticks are recorded under it. Left empty, it is made from the label."
        self.fields["from_date"].initial = today
        self.fields["gate"].initial = Gate.NONE

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("key") and cleaned.get("label"):
            cleaned["key"] = slugify(cleaned["label"])[: PlanStep._meta.get_field("key").max_length].strip("-")
        if not cleaned.get("key") and "key" not in self.errors:
            self.add_error("key", "Give the step a short name, e.g. walk.")
        return cleaned

    def _post_clean(self):
        # The model's own checks (last day after first, pain gate has a limit) run on the instance; the plan and
        # the start date are the service's to set.
        self.instance.plan = self.plan
        super()._post_clean()

    def apply(self):
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        return care.plan_step_add(plan=self.plan, from_date=self.cleaned_data["from_date"], today=self.today, **data)


class ReenrolForm(PlanFormBase):
    race_date = forms.DateField(widget=DATE_INPUT, help_text="Day 0 of the new plan.")
    protocol = forms.ModelChoiceField(queryset=Protocol.objects.all())
    clinician = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["protocol"].initial = self.plan.protocol_id
        self.fields["clinician"].queryset = get_user_model().objects.filter(is_staff=True, groups__name=Role.CLINICIAN)
        self.fields["clinician"].initial = self.plan.clinician_id

    def clean_race_date(self):
        race_date = self.cleaned_data["race_date"]
        if problem := race_date_problem(race_date, self.today):
            raise forms.ValidationError(problem)
        return race_date


class DischargeForm(forms.Form):
    """The confirmation of a discharge: what the plan's page posted, sent again with the answer."""

    status = forms.CharField(widget=forms.HiddenInput)
    confirmed = forms.CharField(widget=forms.HiddenInput)


class SignOffForm(forms.Form):
    """The confirmation of a sign-off for running on a plan with open alerts."""

    confirmed = forms.CharField(widget=forms.HiddenInput)


class PlanChangeForm(KeepsWhatItShowed, forms.ModelForm):
    """The plan's own page: a corrected race date obeys the front desk's rule (``race_date_problem``); an
    unchanged one is not judged again (a plan may have run for over a year).

    What changed is what this clinician changed on the page, not what differs from the plan now: each field
    carries the value the page showed (``show_hidden_initial``), so a page opened before a colleague's save
    writes back only its own changes (``RecoveryPlanAdmin.save_model`` saves ``changed_data``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "note_to_patient" in self.fields:  # its line breaks are read once (KeepsWhatItShowed), as the portal writes
            note = self.fields["note_to_patient"]
            if self.instance.note_to_patient:  # the date the patient reads it under: is it still today's advice?
                written = self.instance.note_to_patient_on
                when = (
                    f"as written on {written:%A %-d %B}"
                    if written
                    else "without a date (written before dates were kept)"
                )
                note.help_text = f"{note.help_text} The patient sees this note {when}."

    def clean_race_date(self):
        race_date = self.cleaned_data["race_date"]
        if problem := race_date_problem(race_date, clinic_today(), current=self.instance.race_date):
            raise forms.ValidationError(problem)
        return race_date

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.changed_data:
            plans = type(self.instance).objects.select_for_update().filter(pk=self.instance.pk)
            stored = plans.values(*self.changed_data).first()
            self.refuse_changed_since_shown(stored, _as_read, who=lambda name: self._who_changed(name, stored[name]))
        return cleaned

    def _who_changed(self, name, value):
        # The History entry that made the field what it is now (RecoveryPlanAdmin.construct_change_message writes
        # the label and the new value); not the newest entry, which may be of another change, or of someone else.
        label = capfirst(self.fields[name].label)
        now = f"{value:%-d %b %Y}" if isinstance(value, datetime.date) else "" if name == "clinician" else str(value)
        return last_saved_in_the_admin(self.instance, says=(label, now))


def _as_read(name, value):
    if name == "clinician" and value is not None:
        return get_user_model().objects.get(pk=value).get_full_name()
    return quoted(value)

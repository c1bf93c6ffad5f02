from django import forms

from clinic.forms import FocusFirstProblem
from reminders.models import EVENING_FROM, EVENING_UNTIL, EVENING_WINDOW, ReminderSettings, in_the_evening

TIME_ERRORS = {
    "invalid": "Enter a time of day as hours and minutes, such as 08:00 or 18:30.",
    "required": "Choose a time.",
}
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
ICE_FIELDS = ["ice_time_1", "ice_time_2", "ice_time_3"]


class ReminderSettingsForm(FocusFirstProblem, forms.ModelForm):
    class Meta:
        model = ReminderSettings
        fields = ["enabled", *ICE_FIELDS, "daily_time", "evening_nudge", "evening_time"]
        widgets = {
            **dict.fromkeys([*ICE_FIELDS, "daily_time"], TIME_WIDGET),
            # The phone's time picker offers only the window (the form still says so after Save, for old browsers).
            "evening_time": forms.TimeInput(
                attrs={"type": "time", "min": f"{EVENING_FROM:%H:%M}", "max": f"{EVENING_UNTIL:%H:%M}"},
                format="%H:%M",
            ),
        }
        error_messages = dict.fromkeys([*ICE_FIELDS, "daily_time", "evening_time"], TIME_ERRORS)
        help_texts = {
            "ice_time_1": "The first 48 hours after the race: three ice sessions of 15 to 20 minutes a day.",
            "daily_time": "The other days: one reminder of the day's plan.",
            "evening_time": (
                f"From {EVENING_FROM:%H:%M} to {EVENING_UNTIL:%H:%M}, only on a day when nothing has been ticked off "
                "or checked in by then."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        times = [cleaned.get(name) for name in ICE_FIELDS]
        if all(time is not None for time in times):
            # Entered in any order, kept in the order of the day. Two equal times are then out of order, and the
            # model's constraint says so in its own plain words (ReminderSettings.Meta), once.
            for name, time in zip(ICE_FIELDS, sorted(times), strict=True):
                cleaned[name] = time
        evening = cleaned.get("evening_time")
        # Checked only when the nudge is wanted: a time kept while it is off is asked about when it is turned on.
        # The model's constraint says the same; said here, the message sits under the time's box.
        if cleaned.get("evening_nudge") and evening is not None and not in_the_evening(evening):
            self.add_error("evening_time", EVENING_WINDOW)
        return cleaned

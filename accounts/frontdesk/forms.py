"""The front desk's forms: every message in plain words, for busy, non-technical reception staff."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts.forms import PasswordTypedTwice
from accounts.frontdesk import email_typos
from accounts.frontdesk.intake import COLUMNS, MAX_BYTES, phone_problem
from accounts.frontdesk.services import EMAIL_FIXED, email_changeable_at_the_desk
from accounts.roles import Role
from clinic.forms import (
    EmailAddressField,
    FocusFirstProblem,
    KeepsWhatItShowed,
    last_saved_in_the_admin,
    name_on_one_line,
    quoted,
)
from recovery.clock import clinic_today
from recovery.models import Protocol
from recovery.services import race_date_problem

User = get_user_model()

TOO_LONG_EMAIL = "An e-mail address has at most 254 characters: check this one for typing mistakes."
TAKEN_EMAIL = "Someone already has an account with this e-mail address. Search for them on the front desk instead."
# A staff member's address, never named (a patient's links to their page); the front desk's search finds patients
# only, so "search for them" would send reception looking for nobody.
STAFF_EMAIL = "This e-mail address already has an account that is not a patient's. Check the address with the patient."


def _date_input():
    # type="date" needs ISO dates; typed dates in the UK's day-first order are read too (LANGUAGE_CODE en-gb).
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _clean_phone(phone):
    phone = " ".join(phone.split())
    if phone and (problem := phone_problem(phone)):
        raise forms.ValidationError(problem)
    return phone


def _clean_race_date(race_date, current=None):
    if race_date is not None and (problem := race_date_problem(race_date, clinic_today(), current=current)):
        raise forms.ValidationError(problem)
    return race_date


def _race_date_field(help_text="Day 0 of the plan."):
    return forms.DateField(
        label="Race date",
        help_text=help_text,
        widget=_date_input(),
        error_messages={
            "required": "Enter the date of the race.",
            "invalid": "Enter the race date as a date, e.g. 26/04/2026.",
        },
    )


def _offer_race_date(form, last_race_date):
    """The morning after a marathon, one runner after another ran the same race: the date is typed once, and the
    next form starts with it (unless no plan could start from it today)."""
    if last_race_date is None or form.is_bound or race_date_problem(last_race_date, clinic_today()):
        return
    field = form.fields["race_date"]
    if field.initial is None:
        field.initial = last_race_date
        field.help_text = (
            f"{field.help_text} Filled in from the patient you enrolled before ({last_race_date:%-d %b %Y}): change "
            "it if this patient ran another race."
        )


def _clean_date_of_birth(date_of_birth):
    today = clinic_today()
    if date_of_birth is not None:
        if date_of_birth >= today:
            raise forms.ValidationError("The date of birth must be in the past.")
        if date_of_birth < today - datetime.timedelta(days=366 * 120):
            raise forms.ValidationError("Check the year of birth.")
    return date_of_birth


def _clean_name(name, label):
    name, problem = name_on_one_line(name, label)  # as in a group file
    if problem:
        raise forms.ValidationError(problem)
    return name


def _clean_email(email, *, exclude_pk=None):
    email = email.strip().lower()
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    holder = taken.first()
    if holder is None:
        return email
    patient = User.objects.patients().filter(pk=holder.pk).exists()
    if not patient:
        raise forms.ValidationError(STAFF_EMAIL)
    if exclude_pk is None:
        # Enrolling a returning runner, usually: their page is where a new plan starts. Staff are never named here.
        raise forms.ValidationError(
            format_html(
                '<a href="{}">{}</a> already has an account with this e-mail address. Open their page to start a '
                "new plan or correct their details.",
                reverse("frontdesk:patient", args=[holder.pk]),
                holder.get_full_name() or holder.email,
            )
        )
    raise forms.ValidationError(TAKEN_EMAIL)


def clinicians():
    return User.objects.filter(is_active=True, is_staff=True, groups__name=Role.CLINICIAN).order_by(
        "last_name", "first_name"
    )


class PatientFieldsMixin(forms.Form):
    """The checks a patient's details get wherever reception types them: enrolment and the manage page."""

    # The address asked about as a likely typing mistake, sent back with the form: the same address again is the
    # answer "it is right as typed".
    email_checked = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_email(self):
        instance = getattr(self, "instance", None)
        email = _clean_email(self.cleaned_data["email"], exclude_pk=instance.pk if instance else None)
        meant = email_typos.suggestion(email)
        if meant and email != (instance.email if instance else None) and email != self._email_checked():
            self.data = self.data.copy()  # the form comes back with the hidden field filled in
            self.data[self.add_prefix("email_checked")] = email
            raise forms.ValidationError(
                f"Did you mean {meant}? Check the address with the patient: an invitation sent to a mistyped "
                "address never arrives. If it is right as typed, press the button again."
            )
        return email

    def _email_checked(self):
        return self.data.get(self.add_prefix("email_checked"), "").strip().lower()

    def clean_first_name(self):
        return _clean_name(self.cleaned_data["first_name"], "first name")

    def clean_last_name(self):
        return _clean_name(self.cleaned_data["last_name"], "last name")

    def clean_phone(self):
        return _clean_phone(self.cleaned_data["phone"])

    def clean_race_date(self):
        return _clean_race_date(self.cleaned_data["race_date"])

    def clean_date_of_birth(self):
        return _clean_date_of_birth(self.cleaned_data["date_of_birth"])


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.email


class PlanChoicesMixin(forms.Form):
    protocol = forms.ModelChoiceField(
        queryset=Protocol.objects.all(),
        empty_label=None,
        label="Recovery plan",
        error_messages={"required": "Choose a recovery plan.", "invalid_choice": "Choose a plan from the list."},
    )
    clinician = ClinicianChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Not yet chosen",
        label="Responsible clinician (optional)",
        error_messages={"invalid_choice": "Choose a clinician from the list."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians()
        if not self.is_bound:
            self.fields["protocol"].initial = Protocol.objects.default()


class EnrolForm(FocusFirstProblem, PatientFieldsMixin, PlanChoicesMixin, forms.Form):
    first_name = forms.CharField(
        max_length=150,
        label="First name",
        error_messages={"required": "Enter the patient's first name."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    last_name = forms.CharField(
        max_length=150,
        label="Last name",
        error_messages={"required": "Enter the patient's last name."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = EmailAddressField(
        max_length=254,
        label="E-mail address",
        help_text="The invitation to choose a password goes here.",
        error_messages={
            "required": "Enter the patient's e-mail address.",
            "invalid": "This is not an e-mail address. Check it for typing mistakes, e.g. name@example.com.",
            "max_length": TOO_LONG_EMAIL,
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "inputmode": "email"}),
    )
    date_of_birth = forms.DateField(
        required=False,
        label="Date of birth (optional)",
        widget=_date_input(),
        error_messages={"invalid": "Enter the date of birth as a date, e.g. 26/04/1990."},
    )
    phone = forms.CharField(
        max_length=32,
        required=False,
        label="Mobile phone (optional)",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )
    race_date = _race_date_field()

    # What every runner gives first; the optional date of birth last, out of the way of the Tab key at a busy desk.
    field_order = ["first_name", "last_name", "email", "phone", "race_date", "protocol", "clinician", "date_of_birth"]

    def __init__(self, *args, last_race_date=None, **kwargs):
        super().__init__(*args, **kwargs)
        _offer_race_date(self, last_race_date)


class PatientDetailsForm(FocusFirstProblem, KeepsWhatItShowed, PatientFieldsMixin, forms.ModelForm):
    """Contact details, and the race date of the open plan when there is one. Only what this page changed is
    written (``KeepsWhatItShowed``): a page opened before a clinician corrected the race date, saved for a new
    phone number, put the old date back."""

    race_date = _race_date_field("Day 0 of the plan: the plan's days follow it.")

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone", "date_of_birth"]
        field_classes = {"email": EmailAddressField}
        labels = {"phone": "Mobile phone (optional)", "date_of_birth": "Date of birth (optional)"}
        widgets = {
            "date_of_birth": _date_input(),
            "phone": forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
            "email": forms.EmailInput(attrs={"inputmode": "email"}),
        }
        error_messages = {
            "first_name": {"required": "Enter the patient's first name."},
            "last_name": {"required": "Enter the patient's last name."},
            "email": {
                "required": "Enter the patient's e-mail address.",
                "invalid": "This is not an e-mail address. Check it for typing mistakes, e.g. name@example.com.",
                "max_length": TOO_LONG_EMAIL,
            },
            "date_of_birth": {"invalid": "Enter the date of birth as a date, e.g. 26/04/1990."},
        }

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        if not email_changeable_at_the_desk(self.instance):
            # A disabled field keeps its value whatever is posted.
            self.fields["email"].disabled = True
            self.fields["email"].help_text = EMAIL_FIXED
        if plan is None:
            del self.fields["race_date"]
        else:
            self.fields["race_date"].initial = plan.race_date

    def clean_race_date(self):
        race_date = _clean_race_date(self.cleaned_data["race_date"], current=self.plan.race_date)
        if race_date != self.plan.race_date and self.plan.cleared_to_run_on is not None:
            # Moving day 0 moves when the running steps open: a clinician's call once they have signed off.
            raise forms.ValidationError(
                "A clinician has signed off this patient's return to running, so only a clinician can change the "
                "race date now. For a new race, ask a clinician to start a new plan."
            )
        return race_date

    def clean(self):
        cleaned = super().clean()
        if self.changed_data:
            stored = User.objects.select_for_update().filter(pk=self.instance.pk).values(*self.Meta.fields).first()
            if self.plan is not None:
                plans = type(self.plan).objects.select_for_update().filter(pk=self.plan.pk)
                stored["race_date"] = plans.values_list("race_date", flat=True).first()
            self.refuse_changed_since_shown(stored, lambda name, value: quoted(value), who=self._who_changed)
        return cleaned

    def _who_changed(self, name):
        # A race date is corrected in the admin (its History names who): it moves every day of the plan, so the
        # desk asks them before replacing it. Contact details are the desk's own.
        if name == "race_date":
            return last_saved_in_the_admin(self.plan, says=("Race date", f"{self.plan.race_date:%-d %b %Y}"))
        return "Someone", ""

    def _post_clean(self):
        # Unlike a ModelForm's usual save, the changes are applied by the service; validate_unique would only
        # repeat clean_email's question with a less friendly message.
        pass


class NewPlanForm(FocusFirstProblem, PlanChoicesMixin, forms.Form):
    """A returning patient's next plan, e.g. after another race: their account and history stay as they are."""

    race_date = _race_date_field("Day 0 of the new plan: the day of the race they have just run.")

    field_order = ["race_date", "protocol", "clinician"]

    def __init__(self, *args, last_plan=None, last_race_date=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_plan = last_plan
        self.fields["race_date"].widget.attrs["autofocus"] = True
        if last_plan is None or (last_race_date is not None and last_race_date > last_plan.race_date):
            _offer_race_date(self, last_race_date)
        clinician_id = last_plan.clinician_id if last_plan is not None else None
        if clinician_id and not self.is_bound and self.fields["clinician"].queryset.filter(pk=clinician_id).exists():
            self.fields["clinician"].initial = clinician_id  # the clinician who knows them

    def clean_race_date(self):
        race_date = _clean_race_date(self.cleaned_data["race_date"])
        if self.last_plan is not None and race_date <= self.last_plan.race_date:
            # The last plan's race typed again would start a second plan on days already lived: a clinician's call.
            raise forms.ValidationError(
                f"Their last plan started from a race on {self.last_plan.race_date:%-d %b %Y}. A new plan is for a "
                "later race: check the date."
            )
        return race_date


class IntakeUploadForm(FocusFirstProblem, PlanChoicesMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        # The column names make one word without a space: a break allowed after each comma (<wbr>), or it pushed a
        # phone's page sideways.
        help_text=format_html(
            "First line: {}. One patient per line; at most {} MB.",
            mark_safe(",<wbr>".join(COLUMNS)),  # the code's own column names: nothing to escape
            MAX_BYTES // 1_000_000,
        ),
        error_messages={"required": "Choose the CSV file to upload.", "empty": "This file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    field_order = ["file", "protocol", "clinician"]


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        # The section's heading already says "Find a patient": the label says what to type.
        label="Name, e-mail, phone or date of birth",
        help_text="A date of birth as day/month/year, e.g. 26/04/1990.",
        # Reception's first move at the desk: typing a name, without eight presses of Tab to get here.
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )


class InvitationAcceptForm(FocusFirstProblem, PasswordTypedTwice, SetPasswordForm):
    """Django's set-password form, plus the patient's consent to the clinic's privacy notice (with its time)."""

    consent = forms.BooleanField(
        required=True,
        error_messages={"required": "Please read the privacy notice and tick the box to continue."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = format_html(
            'I have read the clinic\'s <a href="{}" target="_blank" rel="noopener">privacy notice</a> '
            "(opens in a new tab) and agree to it.",
            reverse_lazy("privacy"),
        )

    def clean(self):
        # As SetPasswordForm.clean, but what is wrong with the password ("too short", "too common") is said under the
        # password itself, not under the box that repeats it.
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)

    def save(self, commit=True):
        self.user.privacy_consent_at = timezone.now()
        return super().save(commit=commit)

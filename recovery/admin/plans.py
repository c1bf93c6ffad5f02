"""The clinician's patients list (who needs me today) and a patient's page: a tailored plan, sign-off, status."""

import datetime
from typing import NamedTuple

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, OrderBy
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext

from accounts.models import User
from audit.mixins import AuditedAdminMixin
from audit.models import Action
from audit.recorder import note
from clinic.links import link_to
from clinic.spreadsheets import csv_text
from recovery import care, rules, services, summaries
from recovery.admin.filters import (
    ClearanceFilter,
    InactiveFilter,
    LastWeekFilter,
    MyPatientsFilter,
    OpenAlertsFilter,
    PhaseFilter,
)
from recovery.admin.forms import DischargeForm, PlanChangeForm, ReenrolForm, SignOffForm, StepAddForm, StepChangeForm
from recovery.charts import pain_chart_for
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import Alert, CheckIn, ExcusedDay, PlanStep, RecoveryPlan
from recovery.services import Refused


class NoneLast(OrderBy):
    """A column's order that keeps the rows without a value last both ways: Django's reversed order (a second
    click on the header) would put them first, above every patient with a number."""

    def __init__(self, expression):
        super().__init__(expression, nulls_last=True)

    def reverse_ordering(self):
        self.descending = not self.descending
        return self


class PlanStepInline(admin.TabularInline):
    """The plan's steps, version by version. Tailoring goes through "Change a step", which keeps history."""

    model = PlanStep
    extra = 0
    ordering = ["position", "valid_from"]
    fields = [
        "position", "key", "label", "first_day", "last_day", "doses_per_day", "times_per_week", "gate",
        "gate_pain_max", "valid_from", "valid_until", "tailored",
    ]  # fmt: skip
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "steps (change them with “Change a step”, so that past days keep their rules)"

    def has_add_permission(self, request, obj=None):
        return False


def _shown(percent):
    return "–" if percent is None else f"{percent}%"


def _percent(ratio):
    return _shown(rules.percent(ratio))


# Why the open alerts matter before each step the clinician is about to take.
CLOSING_WARNING = "once the plan is complete the patient's Today no longer shows its warnings."
RUNNING_WARNING = "a warning sign or a rise in pain may mean the hip is not ready to run."


def _early_clearance_warning(plan, today):
    """Said before a sign-off given before the running steps' first day: it opens them then whatever the hip is
    like by then, and the patient leaves the "Due for sign-off" list, where they would have been looked at."""
    opens_on = care.running_opens_on(plan, today)
    if opens_on <= today:
        return ""
    return format_html(
        "It is day {}: the running steps would open on day {} ({}) without another look, and {} would no longer be "
        "listed as due for sign-off then. A sign-off is usually given on or after that day, after seeing the hip.",
        plan.day_number(today),
        plan.day_number(opens_on),
        f"{opens_on:%-d %b}",
        plan.patient,
    )


def _open_alerts_warning(plan, why=CLOSING_WARNING):
    """Said before a discharge or a re-enrolment (the patient's Today shows no warning once the plan is complete, and
    a new plan starts without the old one's check-ins) and before a sign-off for running: a red flag not yet read
    must not go unseen."""
    open_alerts = list(plan.alerts.open().by_priority())
    if not open_alerts:
        return ""
    urgent = sum(alert.severity == Alert.Severity.URGENT for alert in open_alerts)
    count = f"{len(open_alerts)} open alert{'s' if len(open_alerts) != 1 else ''}"
    if urgent:
        count += f" ({urgent} urgent)"
    latest = open_alerts[0]
    return format_html(
        'This plan has {} not yet acknowledged, the most pressing: <a href="{}">{} on {}</a>. Read {} first: {}',
        count,
        reverse("admin:recovery_alert_change", args=[latest.pk]),
        latest.get_kind_display(),
        f"{latest.date:%d %b}",
        "them" if len(open_alerts) > 1 else "it",
        why,
    )


class StepRow(NamedTuple):
    """A line of the steps table: what the step asks today (a ``summaries.StepToday``) beside its adherence."""

    key: str
    label: str
    now: summaries.StepToday
    week: str
    overall: str


def _person(user):
    return (user.get_full_name() or user.email) if user else "none"


# The visit summary's check-ins and acknowledged alerts: the last two weeks, so that it prints on one page.
VISIT_CHECK_INS = 14
VISIT_ALERT_DAYS = 14

TREND_ARROWS = {"up": "↑ rising", "down": "↓ falling", "steady": "→ steady", "": ""}


@admin.register(RecoveryPlan)
class RecoveryPlanAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # The status is a line under the day, shown when the plan is not active: a ninth column did not fit a 1280-pixel
    # screen beside the menu and the filters.
    list_display = ["patient_name", "day_and_phase", "adherence", "pain", "open_alerts", "last_activity", "clinician"]
    list_filter = [
        MyPatientsFilter, OpenAlertsFilter, LastWeekFilter, PhaseFilter, InactiveFilter, ClearanceFilter, "status",
    ]  # fmt: skip
    # Not select_related: joining 10,000 patients before sorting every plan to keep 50 made the list's main query
    # three times slower. SummaryChangeList.get_results fetches the page's people in one query instead.
    list_select_related = []
    search_fields = ["patient__first_name", "patient__last_name", "patient__email"]
    list_per_page = 50
    fields = [
        "patient", "protocol", "race_date", "clinician", "note_to_patient", "status", "paused_on", "cleared_to_run_on",
        "cleared_by",
    ]  # fmt: skip
    readonly_fields = ["patient", "protocol", "status", "paused_on", "cleared_to_run_on", "cleared_by"]
    form = PlanChangeForm
    inlines = [PlanStepInline]
    actions = ["export_adherence"]
    change_form_template = "admin/recovery/recoveryplan/change_form.html"

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        queryset = summaries.with_summary_columns(super().get_queryset(request))
        if self._sorted_by(request, "adherence"):
            queryset = summaries.with_last_week_sort_key(queryset, clinic_today())
        return queryset

    def _sorted_by(self, request, column):
        """Whether the list's ``?o=`` (column numbers, the action checkbox first) sorts by ``column``."""
        columns = ["action_checkbox", *self.get_list_display(request)]
        numbers = request.GET.get(admin.views.main.ORDER_VAR, "").split(".")
        return any(n.lstrip("-").isdigit() and columns[int(n.lstrip("-")) :][:1] == [column] for n in numbers)

    def changelist_view(self, request, extra_context=None):
        # Clinicians come here to see who needs them, not to "select recovery plan to change"; the heading says the
        # order only while the list is in it (a column's header sorts it otherwise).
        sorted_by_column = admin.views.main.ORDER_VAR in request.GET
        title = "Patients" if sorted_by_column else "Patients: open alerts first, then the longest silent"
        extra_context = {"title": title, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        # Only what the form changed: a whole row read at the start of this request would write back the summaries
        # a patient's tick changed meanwhile (last activity, last week's share).
        # The form set every field it shows on the plan, as the page showed them: the rest are put back as stored,
        # so the saved message and History name the plan as it is (not a race date a colleague corrected).
        if unchanged := [name for name in form.fields if name not in form.changed_data]:
            obj.refresh_from_db(fields=unchanged)
        fields = [name for name in form.changed_data if name != "race_date"]
        if "note_to_patient" in fields:
            obj.note_to_patient_on = clinic_today() if obj.note_to_patient else None
            fields.append("note_to_patient_on")
        if fields:
            obj.save(update_fields=[*fields, "updated_at"])
        if "race_date" in form.changed_data and (withdrawn := services.plan_race_date_correct(obj, obj.race_date)):
            obj.clearance_withdrawn = (
                f"The return-to-running sign-off of {withdrawn:%-d %b %Y} came before the new race date, so it was "
                "withdrawn."
            )
            self.message_user(
                request, f"{obj.clearance_withdrawn} Sign off again when the patient is ready.", messages.WARNING
            )

    def construct_change_message(self, request, form, formsets, add=False):
        """History says what each change was, from what to what: a race date moves every day of the plan."""
        if add:
            return super().construct_change_message(request, form, formsets, add)
        said = []
        for name in form.changed_data:
            label = capfirst(form.fields[name].label)
            before, after = form.initial.get(name), form.cleaned_data.get(name)
            if name == "race_date":
                said.append(f"{label}: {before:%-d %b %Y} → {after:%-d %b %Y}.")
            elif name == "clinician":
                was = User.objects.filter(pk=before).first() if before else None
                said.append(f"{label}: {_person(was)} → {_person(after)}.")
            elif name == "note_to_patient":
                said.append(f"{label}: “{after}”." if after else f"{label}: removed.")
            else:
                said.append(f"{label} changed.")
        if withdrawn := getattr(form.instance, "clearance_withdrawn", ""):
            said.append(withdrawn)
        return " ".join(said) or super().construct_change_message(request, form, formsets, add)

    def get_ordering(self, request):
        # Who needs me today: the most severe open alert first (a call-999 red flag above three "watch" alerts), the
        # newest of those first (today's red flag above last week's), then how many, then the longest silent: silent
        # as the inactive filter and each row's words count it (RecoveryPlan.quiet_since), from a resume or the start.
        return [F("open_alert_rank").desc(), F("quiet_since_on").asc(), "pk"]

    def has_add_permission(self, request):
        return False  # plans start at the front desk (or with "Re-enrol" on a patient's page)

    def audit_patient_id(self, plan):
        return plan.patient_id

    def get_changelist(self, request, **kwargs):
        return SummaryChangeList

    def action_checkbox(self, plan):
        # Django's own checkbox, written out: its form widget renders a template per row, 50 times a page (about
        # 11 ms of the list's 110; docs/BENCHMARKS.md). Same HTML, same label.
        label = format_html(gettext("Select this object for an action - {}"), str(plan))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            plan.pk,
            label,
        )

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, plan):
        return format_html("{}<br><small>{}</small>", plan.patient.get_full_name() or "—", plan.patient.email)

    @admin.display(description="day · phase", ordering="-race_date")
    def day_and_phase(self, plan):
        summary = plan.summary
        day = f"Day {summary.day} · {summary.phase}" if summary.phase else f"Day {summary.day}"
        if plan.status == RecoveryPlan.Status.ACTIVE:
            return day
        return format_html('{}<br><strong class="apex-status">{}</strong>', day, plan.get_status_display())

    @admin.display(description="done, 7 days to yesterday", ordering=NoneLast(F("last_week_now")))
    def adherence(self, plan):
        # The column sorts and filters by the share the clock stores for active plans only: a paused or discharged
        # plan's row shows none rather than a number the list's order and bands do not go by (its page has it).
        if plan.status != RecoveryPlan.Status.ACTIVE:
            return "–"
        return _shown(plan.summary.last_week_percent)

    @admin.display(description="last pain", ordering="last_pain")
    def pain(self, plan):
        if plan.summary.last_pain is None:
            return "–"
        return f"{plan.summary.last_pain}/10 {TREND_ARROWS[plan.summary.pain_trend]}".strip()

    # Not named "alerts": the admin would sort by the plan's relation of that name (a row per alert) before the
    # ordering given here.
    @admin.display(description="open alerts", ordering="open_alert_rank")
    def open_alerts(self, plan):
        if not plan.summary.open_alerts:
            return "–"
        url = link_to("admin:recovery_alert_changelist") + f"?plan__id__exact={plan.pk}&state=open"
        count, severity = plan.summary.open_alerts, Alert.Severity(plan.summary.open_alert_severity)
        return format_html(
            '<a class="apex-flag apex-flag-alert" href="{}">⚠ {} open · {}</a>', url, count, severity.label.lower()
        )

    @admin.display(description="last activity", ordering="last_activity_on")
    def last_activity(self, plan):
        when = plan.summary.last_activity_on.strftime("%d %b") if plan.summary.last_activity_on else "never"
        if plan.summary.inactive:
            when = format_html('<span class="apex-flag apex-flag-inactive">{} · inactive</span>', when)
        if plan.quiet_since_resume:
            # The days on hold were no silence of the patient's (RecoveryPlan.quiet_since), as the front desk says.
            return format_html("{}<br><small>quiet since resumed {}</small>", when, plan.resumed_on.strftime("%d %b"))
        return when

    @admin.action(description="Export adherence of the selected patients (CSV)")
    def export_adherence(self, request, queryset):
        today = clinic_today()
        plans = list(summaries.with_summary_columns(queryset.select_related("patient", "clinician")))
        rows = summaries.plan_summaries(plans, today)
        note(request, Action.EXPORT, description=f"adherence CSV of {len(plans)} patient(s)")
        header = ["patient", "email", "status", "clinician", "race date", "day", "phase",
                  "done, 7 days to yesterday (%)", "last pain", "pain trend", "open alerts", "last activity",
                  "inactive"]  # fmt: skip
        lines = []
        for plan in plans:
            summary = rows[plan.pk]
            clinician = plan.clinician.get_full_name() or plan.clinician.email if plan.clinician else ""
            lines.append([
                plan.patient.get_full_name(), plan.patient.email, plan.get_status_display(), clinician,
                plan.race_date, summary.day, summary.phase,
                "" if summary.last_week_percent is None else summary.last_week_percent,
                "" if summary.last_pain is None else summary.last_pain, summary.pain_trend, summary.open_alerts,
                summary.last_activity_on or "", "yes" if summary.inactive else "no",
            ])  # fmt: skip
        response = HttpResponse(csv_text([header, *lines]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="adherence-{today:%Y-%m-%d}.csv"'
        return response

    # -- The patient's page --------------------------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), **(self._patient_context(plan) if plan else {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def _patient_context(self, plan):
        today = clinic_today()
        facts = facts_for_plan(plan, plan.race_date, today)
        series, chart = pain_chart_for(facts, today)
        week_first, week_last = summaries.last_week(today)
        # Open ones first: an older open red flag below newer alerts already dealt with could be missed.
        alerts = list(Alert.objects.filter(plan=plan).select_related("acknowledged_by").by_priority())
        return {
            "plan": plan,
            "today": today,
            "day_number": facts.day_number(today),
            "day_off": today in facts.excused and not facts.paused(today),
            "phase": rules.phase_on(facts, today),
            # The day the patient was enrolled, when after race day: the scores leave the days before it out.
            "joined_late": max(facts.day_number(plan.started_on), 0),
            "adherence_week": _shown(summaries.last_week_percent(facts, today)),
            "adherence_overall": _percent(rules.adherence(facts, plan.race_date, today, today)),
            "step_rows": self._step_rows(plan, facts, today, week_first, week_last),
            "check_ins": CheckIn.objects.filter(plan=plan).order_by("-date")[:28],
            # The patient's own days off, with their words: "fever, feel awful" is for a clinician to read.
            "days_off": ExcusedDay.objects.filter(plan=plan, on_hold=False).order_by("-date")[:28],
            "plan_alerts": alerts,
            "open_alert_count": sum(alert.acknowledged_at is None for alert in alerts),
            "series": series,
            "chart": chart,
        }

    @staticmethod
    def _step_rows(plan, facts, today, week_first, week_last):
        """A ``StepRow`` per step. Last week as the headline reads it: from what was recorded by its end
        (summaries.last_week_percent), so a step added since has no week of its own."""
        week = {
            key: adherence
            for key, _label, adherence in summaries.step_adherence(facts.as_of(week_last), week_first, week_last, today)
        }
        now = summaries.steps_today(facts, today) if plan.status != RecoveryPlan.Status.COMPLETED else {}
        nothing = summaries.StepToday("–", on_checklist=False)
        return [
            StepRow(key, label, now.get(key, nothing), _percent(week.get(key)), _percent(overall))
            for key, label, overall in summaries.step_adherence(facts, plan.race_date, today, today)
        ]

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path("<int:pk>/change-step/", view(self.change_step_view), name="recovery_plan_change_step"),
            path("<int:pk>/add-step/", view(self.add_step_view), name="recovery_plan_add_step"),
            path("<int:pk>/sign-off/", view(self.sign_off_view), name="recovery_plan_sign_off"),
            path("<int:pk>/status/", view(self.status_view), name="recovery_plan_status"),
            path("<int:pk>/re-enrol/", view(self.reenrol_view), name="recovery_plan_reenrol"),
            path("<int:pk>/visit-summary/", view(self.visit_summary_view), name="recovery_plan_visit_summary"),
            *super().get_urls(),
        ]

    def _plan_for(self, request, pk, *, change):
        plan = get_object_or_404(RecoveryPlan.objects.select_related("patient", "protocol"), pk=pk)
        allowed = self.has_change_permission(request, plan) if change else self.has_view_permission(request, plan)
        if not allowed:
            raise PermissionDenied
        page = request.resolver_match.url_name.removeprefix("recovery_plan_").replace("_", " ")
        action = Action.CHANGE if change and request.method == "POST" else Action.VIEW
        note(request, action, target=plan, patient=plan.patient, description=f"recovery plan {plan.pk}: {page}")
        return plan

    def _back(self, plan):
        return HttpResponseRedirect(reverse("admin:recovery_recoveryplan_change", args=[plan.pk]))

    def _done(self, request, plan, message):
        """Say what was done, and keep it in the plan's History with who and when: these pages are not the
        admin's own change form, which would otherwise be the only thing History lists."""
        messages.success(request, message)
        self.log_change(request, plan, message)

    def _form_page(self, request, plan, form, title, submit, intro="", warning=""):
        context = {
            "intro": intro,
            "warning": warning,
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": plan,
            "plan": plan,
            "form": form,
            "title": title,
            "submit": submit,
        }
        return TemplateResponse(request, "admin/recovery/recoveryplan/plan_form.html", context)

    def _tailorable(self, request, plan):
        """What the service would refuse (care.tailoring_problem), said before a form is filled in, not after."""
        if problem := care.tailoring_problem(plan):
            messages.error(request, problem)
            return False
        return True

    def change_step_view(self, request, pk):
        plan = self._plan_for(request, pk, change=True)
        if not self._tailorable(request, plan):
            return self._back(plan)
        form = StepChangeForm(request.POST or None, plan=plan, today=clinic_today())
        if request.method == "POST" and form.is_valid():
            try:
                form.apply()
            except Refused as refusal:
                form.add_error(None, str(refusal))
            else:
                self._done(request, plan, form.success_message())
                return self._back(plan)
        return self._form_page(request, plan, form, f"Change a step of {plan.patient}'s plan", "Save the change")

    def add_step_view(self, request, pk):
        plan = self._plan_for(request, pk, change=True)
        if not self._tailorable(request, plan):
            return self._back(plan)
        form = StepAddForm(request.POST or None, plan=plan, today=clinic_today())
        if request.method == "POST" and form.is_valid():
            try:
                step = form.apply()
            except Refused as refusal:
                form.add_error(None, str(refusal))
            else:
                self._done(request, plan, f"“{step.label}” is on the plan from {step.valid_from:%d %b %Y}.")
                return self._back(plan)
        return self._form_page(request, plan, form, f"Add a step to {plan.patient}'s plan", "Add the step")

    def _typed_changes_save(self, request, plan):
        """The buttons under the plan's form post that form to their own address: what was typed above them is
        saved first, as Save saves it (a note typed before "Pause the plan" was lost). Returns None when it is
        saved or nothing was typed; else the plan's page again, with what is wrong and what was typed."""
        if "note_to_patient" not in request.POST:  # a confirmation page, which posts only its own fields
            return None
        form = self.get_form(request, plan, change=True)(request.POST, request.FILES, instance=plan)
        formsets, _ = self._create_formsets(request, plan, change=True)
        if not form.has_changed() and not any(formset.has_changed() for formset in formsets):
            return None
        change_url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
        response = self.change_view(request, str(plan.pk), form_url=change_url)
        if response.status_code != 302:
            messages.error(request, "Nothing else was done: correct what is marked below, then press the button again.")
            return response
        plan.refresh_from_db()
        return None

    def sign_off_view(self, request, pk):
        plan = self._plan_for(request, pk, change=True)
        if request.method != "POST":
            return self._back(plan)
        if refused := self._typed_changes_save(request, plan):
            return refused
        if request.POST.get("withdraw"):
            care.plan_withdraw_clearance(plan=plan, today=clinic_today())
            self._done(request, plan, "The return-to-running clearance is withdrawn.")
        elif not request.POST.get("confirmed") and (
            warning := _open_alerts_warning(plan, RUNNING_WARNING) or _early_clearance_warning(plan, clinic_today())
        ):
            # One click would open running for a patient whose red flag nobody has read yet, or weeks before the
            # day a clinician would look at the hip: asked once more.
            form = SignOffForm(initial={"confirmed": "1"})
            intro = f"{plan.patient}'s running steps open from today, or on the first day of running if that is later."
            return self._form_page(
                request, plan, form, f"Clear {plan.patient} to run?", "Clear to run", intro=intro, warning=warning
            )
        else:
            today = clinic_today()
            opens_on = care.plan_clear_to_run(plan=plan, by=request.user, today=today)
            if opens_on == today:
                opening = "the running steps are open."
            else:
                opening = f"the running steps open on day {plan.day_number(opens_on)}, {opens_on:%d %b}."
            self._done(request, plan, f"{plan.patient} is cleared to run from today; {opening}")
        return self._back(plan)

    def status_view(self, request, pk):
        plan = self._plan_for(request, pk, change=True)
        status = request.POST.get("status")
        if request.method != "POST" or status not in care.STATUS_MOVES:
            return self._back(plan)
        if refused := self._typed_changes_save(request, plan):
            return refused
        if status == RecoveryPlan.Status.COMPLETED and not request.POST.get("confirmed"):
            # A discharge cannot be undone (only a new plan follows it): asked once more, on a page of its own.
            form = DischargeForm(initial={"status": status, "confirmed": "1"})
            intro = (
                f"{plan.patient}'s plan will be complete: their daily plan stops and it cannot be reopened "
                "(Re-enrol starts a new one). Their history is kept."
            )
            return self._form_page(
                request, plan, form, f"Discharge {plan.patient}?", "Discharge", intro=intro,
                warning=_open_alerts_warning(plan),
            )  # fmt: skip
        try:
            care.plan_set_status(plan=plan, status=status, today=clinic_today())
        except Refused as refusal:
            messages.error(request, str(refusal))
        else:
            self._done(request, plan, f"The plan is now {plan.get_status_display().lower()}.")
        return self._back(plan)

    def reenrol_view(self, request, pk):
        plan = self._plan_for(request, pk, change=True)
        form = ReenrolForm(request.POST or None, plan=plan, today=clinic_today())
        if request.method == "POST" and form.is_valid():
            try:
                new_plan = care.plan_reenrol(plan=plan, today=clinic_today(), **form.cleaned_data)
            except Refused as refusal:
                messages.error(request, str(refusal))
                return self._back(plan)
            self._done(request, plan, f"{plan.patient} has a new plan from race day {new_plan.race_date:%d %b %Y}.")
            return HttpResponseRedirect(reverse("admin:recovery_recoveryplan_change", args=[new_plan.pk]))
        intro = ""
        if plan.status != RecoveryPlan.Status.COMPLETED:
            # Said before, not after: starting the new plan discharges this one, which cannot be reopened.
            intro = (
                f"{plan.patient}'s current plan (race day {plan.race_date:%d %b %Y}, "
                f"{plan.get_status_display().lower()}) will be complete (discharged) when the new one starts. Its "
                "history is kept."
            )
        return self._form_page(
            request, plan, form, f"Re-enrol {plan.patient}", "Start the new plan", intro=intro,
            warning=_open_alerts_warning(plan),
        )  # fmt: skip

    def visit_summary_view(self, request, pk):
        plan = self._plan_for(request, pk, change=False)
        context = self._patient_context(plan)
        # Short enough to print for the appointment: the steps on today's checklist or with a record (not the ones
        # still to come), and the last two weeks' check-ins (the patient's page has them all).
        context["step_rows"] = [
            row for row in context["step_rows"] if row.now.on_checklist or (row.week, row.overall) != ("–", "–")
        ]
        context["check_ins"] = context["check_ins"][:VISIT_CHECK_INS]
        # Every open alert, and those dealt with in the last two weeks; older ones are on the patient's page.
        recent_from = context["today"] - datetime.timedelta(days=VISIT_ALERT_DAYS - 1)
        context["days_off"] = [day for day in context["days_off"] if day.date >= recent_from]
        context["days_off_recent_only"] = True
        alerts = list(context["plan_alerts"])
        # In the page's order (AlertQuerySet.by_priority): a two-month-old open red flag is not the last line printed.
        shown = [alert for alert in alerts if alert.acknowledged_at is None or alert.date >= recent_from]
        older = [alert for alert in alerts if alert not in shown]
        context["plan_alerts"], context["older_alerts"] = shown, len(older)
        context["older_urgent"] = sum(alert.severity == Alert.Severity.URGENT for alert in older)
        context = {
            **self.admin_site.each_context(request),  # the workspace's own header and title, not Django's
            **context,
            "title": f"Visit summary — {plan.patient}",
        }
        return TemplateResponse(request, "admin/recovery/recoveryplan/visit_summary.html", context)


class SummaryChangeList(admin.views.main.ChangeList):
    """Attaches each row's summary, computed for the page's rows only, from a fixed number of bulk queries."""

    def get_results(self, request):
        super().get_results(request)
        plans = list(self.result_list)
        people = User.objects.in_bulk({plan.patient_id for plan in plans} | {plan.clinician_id for plan in plans})
        for plan in plans:
            plan.patient = people[plan.patient_id]
            plan.clinician = people.get(plan.clinician_id)
        found = summaries.plan_summaries(plans, clinic_today())
        for plan in plans:
            plan.summary = found[plan.pk]

"""The alerts queue (acknowledged with a note, one or many at once) and the check-ins list, both read-only but
for the acknowledgement."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.db.models import Subquery
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

from audit.mixins import AuditedAdminMixin
from audit.models import Action
from audit.recorder import note
from clinic.admin_base import ReadOnlyAdmin
from clinic.forms import TextareaCountingLineBreaksOnce, count_line_breaks_once
from recovery import care, safety
from recovery.admin.filters import AlertStateFilter
from recovery.models import Alert, CheckIn, RecoveryPlan
from recovery.models.checkins import ALERT_PRIORITY
from recovery.templatetags.alerts import alert_history


def _patient_of_plan(plan_id):
    """The patient of a plan, as a subquery for the audit row (no query of its own)."""
    return Subquery(RecoveryPlan.objects.filter(pk=plan_id).values("patient_id")[:1])


# An acknowledgement tells colleagues an alert is dealt with; without a word of what was done, an urgent red flag
# would leave the queue with nothing to show for it.
NOTE_REQUIRED = "Say what you did, so your colleagues know how the alert was dealt with."


CHANGED_WHILE_READING = (
    "The patient changed this alert while you were reading it: nothing was acknowledged. Read what it says now, "
    "then acknowledge it."
)


def seen_at(data):
    """When the page that posts ``data`` showed its alerts (its hidden ``seen_at``); None from a page without one.
    A time that cannot be read (or has no time zone) is taken for the earliest: nothing is acknowledged on it."""
    text = data.get("seen_at")
    if not text:
        return None
    try:
        shown = parse_datetime(text)
    except ValueError:  # well formed, but no such time ("25:00")
        shown = None
    if shown is None or timezone.is_naive(shown):
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return shown


class AlertForm(forms.ModelForm):
    """The alert's page: saving it acknowledges the alert, unless the alert changed after the page showed it."""

    def clean(self):
        cleaned = super().clean()
        shown = seen_at(self.data)
        if shown is not None and self.instance.updated_at > shown:
            raise forms.ValidationError(CHANGED_WHILE_READING)
        return cleaned


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        widget=TextareaCountingLineBreaksOnce(attrs={"rows": 3, "cols": 60}),
        max_length=Alert._meta.get_field("acknowledgement_note").max_length,
        help_text="What you did, e.g. “Phoned the patient, booked an appointment for tomorrow”.",
        error_messages={"required": NOTE_REQUIRED},
    )  # fmt: skip


@admin.register(Alert)
class AlertAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The alerts queue: open alerts first, most severe and newest first."""

    list_display = ["severity_badge", "kind", "patient", "date", "reason_now", "acknowledged"]
    list_display_links = ["kind"]
    list_filter = [AlertStateFilter, "kind", "severity"]
    list_select_related = ["plan__patient", "acknowledged_by"]
    search_fields = ["plan__patient__first_name", "plan__patient__last_name", "plan__patient__email"]
    fields = ["plan", "kind", "severity", "date", "what_it_says", "created_at", "acknowledged_at", "acknowledged_by",
              "acknowledgement_note"]  # fmt: skip
    readonly_fields = ["plan", "kind", "severity", "date", "what_it_says", "created_at", "acknowledged_at",
                       "acknowledged_by"]  # fmt: skip
    actions = ["acknowledge_selected"]
    form = AlertForm

    class Media:
        css = {"all": ["css/admin.css"]}

    def changelist_view(self, request, extra_context=None):
        # Says what the order is, in place of "Select alert to change".
        extra_context = {"title": "Alerts: open first, the most severe and newest first", **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        return list(ALERT_PRIORITY)  # AlertQuerySet.by_priority

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def audit_patient_id(self, alert):
        return _patient_of_plan(alert.plan_id)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "acknowledgement_note" in form.base_fields:
            field = form.base_fields["acknowledgement_note"]
            count_line_breaks_once(field)
            field.help_text = (
                "Acknowledging tells your colleagues the alert is dealt with. Say what you did, e.g. “Phoned the "
                "patient, booked an appointment for tomorrow”."
            )
            field.required = True
            field.error_messages["required"] = NOTE_REQUIRED
        return form

    def response_change(self, request, obj):
        if not getattr(obj, "kept_colleagues_acknowledgement", False):
            self.message_user(request, f"Alert acknowledged: {obj.get_kind_display().lower()}, {obj.plan.patient}.")
        # Back to the queue as the clinician had filtered it (urgent and open, say), not the whole list.
        queue = reverse("admin:recovery_alert_changelist")
        preserved = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(preserved, queue))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.acknowledged_at:
            return [*self.readonly_fields, "acknowledgement_note"]
        return self.readonly_fields

    @admin.display(description="severity", ordering="-severity")
    def severity_badge(self, alert):
        return format_html(
            '<span class="apex-flag apex-severity-{}">{}</span>', alert.severity, alert.get_severity_display()
        )

    @admin.display(description="patient", ordering="plan__patient__last_name")
    def patient(self, alert):
        url = reverse("admin:recovery_recoveryplan_change", args=[alert.plan_id])
        return format_html('<a href="{}">{}</a>', url, alert.plan.patient)

    @admin.display(description="what raised it")
    def reason_now(self, alert):
        """The queue says what the alert says now; its page has every earlier version."""
        now, entries = safety.reason_parts(alert.reason)
        if not entries:
            return now
        versions = "1 earlier version" if len(entries) == 1 else f"{len(entries)} earlier versions"
        return format_html("{} <small>({} on its page)</small>", now, versions)

    @admin.display(description="what raised it")
    def what_it_says(self, alert):
        return alert_history(alert.reason)

    @admin.display(description="acknowledged")
    def acknowledged(self, alert):
        if not alert.acknowledged_at:
            return format_html('<span class="apex-flag apex-flag-alert">{}</span>', "open")
        return f"{alert.acknowledged_by} · {timezone.localtime(alert.acknowledged_at):%d %b %H:%M}"

    def save_model(self, request, obj, form, change):
        # Only the acknowledgement is written, and only if nobody acknowledged the alert meanwhile.
        acknowledged = care.alert_acknowledge(
            alert_ids=[obj.pk],
            by=request.user,
            note=form.cleaned_data.get("acknowledgement_note", ""),
            seen_at=seen_at(request.POST),
        )
        if not acknowledged:
            current = Alert.objects.select_related("acknowledged_by").get(pk=obj.pk)
            # From the post: the page for an acknowledged alert has no note field, so its form drops what was typed.
            typed = str(request.POST.get("acknowledgement_note", ""))
            if current.acknowledged_at is None:  # changed by the patient in the moment since the form's check
                said = CHANGED_WHILE_READING
            elif current.acknowledged_by_id == request.user.pk:
                said = "You had already acknowledged this alert; the first acknowledgement is kept."
            else:  # a colleague, or an account since removed
                said = f"{current.acknowledged_by or 'A colleague'} had already acknowledged this alert; kept theirs."
            obj.history_says = None  # nothing of this page was saved
            if current.acknowledged_at is not None and typed.strip():
                if care.alert_note_add(alert_id=obj.pk, by=request.user, note=typed):
                    said += " Your note is added to it, with your name."
                    obj.history_says = "Added a note"
                else:
                    said += f" Your note did not fit beside theirs, so it is not saved: “{typed.strip()}”."
            messages.warning(request, said)
            obj.kept_colleagues_acknowledgement = True

    def save_related(self, request, form, formsets, change):
        pass  # an alert has no related objects to save

    def log_change(self, request, obj, message):
        # What this save did: an acknowledgement, a note added to a colleague's, or nothing (no entry then).
        says = getattr(obj, "history_says", "Acknowledged")
        return super().log_change(request, obj, says) if says else None

    @admin.action(description="Acknowledge the selected alerts (with a note)")
    def acknowledge_selected(self, request, queryset):
        form = AcknowledgeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            shown = seen_at(request.POST)
            count = care.alert_acknowledge(
                alert_ids=list(queryset.values_list("pk", flat=True)),
                by=request.user,
                note=form.cleaned_data["note"],
                seen_at=shown,
            )
            alerts = "1 alert" if count == 1 else f"{count} alerts"
            note(request, Action.CHANGE, description=f"acknowledged {alerts}")
            self.message_user(request, f"{alerts} acknowledged.", messages.SUCCESS)
            if shown is not None and (changed := queryset.open().filter(updated_at__gt=shown).count()):
                self.message_user(
                    request,
                    f"{changed} changed by the patient while you were reading, so left open: read "
                    f"{'it' if changed == 1 else 'them'} again.",
                    messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Acknowledge alerts",
            "alerts": queryset.select_related("plan__patient"),
            "form": form,
            "seen_at": timezone.now(),  # an alert the patient changes after this is left open
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/recovery/alert/acknowledge.html", context)


@admin.register(CheckIn)
class CheckInAdmin(AuditedAdminMixin, ReadOnlyAdmin):
    list_display = ["plan", "date", "pain", "numbness", "swelling", "warning_signs"]
    list_select_related = ["plan__patient"]
    search_fields = ["plan__patient__first_name", "plan__patient__last_name", "plan__patient__email"]
    date_hierarchy = "date"

    def audit_patient_id(self, check_in):
        return _patient_of_plan(check_in.plan_id)

    @admin.display(description="warning signs")
    def warning_signs(self, check_in):
        return "; ".join(check_in.red_flag_words()) or "–"

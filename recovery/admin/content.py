"""The clinic's content in the admin: tips, the standing disclaimer, safety thresholds and protocols."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from audit.models import Action
from audit.recorder import note
from recovery import protocol_updates
from recovery.admin.history import OneClickRevertAdmin
from recovery.admin.stale import VERSION_FIELD, SavedSinceOpenedForm
from recovery.clock import clinic_today
from recovery.models import Disclaimer, Phase, Protocol, ProtocolStep, RecoveryPlan, SafetyThresholds, Tip


class ReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Not reviewed for a year"), ("flagged", "Flagged for review")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            a_year_ago = clinic_today() - datetime.timedelta(days=365)
            return queryset.filter(last_reviewed_on__isnull=True) | queryset.filter(last_reviewed_on__lt=a_year_ago)
        if self.value() == "flagged":
            return queryset.exclude(review_note="")
        return queryset


@admin.register(Tip)
class TipAdmin(OneClickRevertAdmin):
    form = SavedSinceOpenedForm
    list_display = ["title", "kind", "position", "published", "needs_review", "last_reviewed_by", "last_reviewed_on"]
    list_display_links = ["title"]
    list_filter = ["kind", "published", ReviewFilter]
    list_select_related = ["last_reviewed_by"]
    search_fields = ["title", "summary", "body"]
    ordering = ["kind", "position"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["last_reviewed_by", "last_reviewed_on", "preview_link"]
    actions = ["mark_reviewed"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "position", "published", "preview_link", VERSION_FIELD]}),
        ("What patients read", {"fields": ["summary", "body"]}),
        ("Clinical review", {"fields": ["review_note", "last_reviewed_by", "last_reviewed_on"]}),
    ]
    history_list_display = ["title", "published"]

    @admin.display(boolean=True, description="flagged")
    def needs_review(self, tip):
        return bool(tip.review_note)

    @admin.display(description="preview")
    def preview_link(self, tip):
        if not tip.pk:
            return "Save the tip to preview it."
        url = reverse("admin:recovery_tip_preview", args=[tip.pk])
        return format_html('<a href="{}">See it as a patient does</a>', url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "published" in form.changed_data and not obj.published:
            # Said at once: the patients following a step it explains lose its "Why this helps" link.
            in_use = RecoveryPlan.objects.open().filter(steps__tip=obj).distinct().count()
            if in_use:
                patients = "1 patient's plan has" if in_use == 1 else f"{in_use:,} patients' plans have"
                messages.warning(
                    request, f"{patients} a step this tip explains: their Today page no longer links to it."
                )

    @admin.action(description="Mark the selected tips as reviewed by me today")
    def mark_reviewed(self, request, queryset):
        # A flagged tip is reviewed by editing it and clearing its note, not by a stamp beside the open note.
        reviewed = 0
        for tip in queryset:
            if tip.review_note:
                messages.warning(
                    request,
                    f"“{tip}” has an open review note: edit it, change what patients read if needed, and clear the "
                    "note.",
                )
                continue
            # Saved one by one so that each review is kept in the tip's history with the reviewer.
            tip.last_reviewed_by = request.user
            tip.last_reviewed_on = clinic_today()
            tip._change_reason = "Reviewed"
            tip.save()
            reviewed += 1
        if reviewed:
            tips = "1 tip" if reviewed == 1 else f"{reviewed} tips"
            self.message_user(request, f"{tips} marked as reviewed by you today.", messages.SUCCESS)

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [path("<int:pk>/preview/", preview, name="recovery_tip_preview"), *super().get_urls()]

    def preview_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        tip = get_object_or_404(Tip, pk=pk)
        context = {"tip": tip, "disclaimer": Disclaimer.current(), "is_preview": True}
        return render(request, "recovery/tip_detail.html", context)


class SingletonAdmin(OneClickRevertAdmin):
    """One record, edited in place: it cannot be added twice or deleted."""

    form = SavedSinceOpenedForm

    def has_add_permission(self, request):
        return not self.model.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Disclaimer)
class DisclaimerAdmin(SingletonAdmin):
    list_display = ["__str__", "text"]


@admin.register(SafetyThresholds)
class SafetyThresholdsAdmin(SingletonAdmin):
    list_display = ["__str__", "ease_off_pain_from", "alert_pain_from", "pain_rise_points", "inactive_after_days"]

    def response_change(self, request, obj):
        # Not Django's "The safety thresholds “Safety thresholds” was changed successfully."
        self.message_user(request, "The safety thresholds are saved.")
        return redirect(request.path)


COMPACT_TEXT = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}


class LabelledInline(admin.TabularInline):
    """A table whose fields are labelled only by its column headers: each field gets its column's name for a screen
    reader too (axe: "Form elements must have labels")."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            field.widget.attrs.setdefault("aria-label", capfirst(db_field.verbose_name))
        return field

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                if "DELETE" in form.fields:  # the formset's own box, under the column "Delete?"
                    form.fields["DELETE"].widget.attrs["aria-label"] = "Delete"

        return LabelledFormSet


def say_who_keeps_their_plan(request, protocol):
    """After the protocol's steps changed (saved, or a step restored from its history): whether the patients already
    on it are affected, with the link that brings the change to them."""
    if not protocol_updates.open_plans(protocol).exists():
        return
    # What the update would do, not how many plans there are: a step whose days are over for everyone, or tailored
    # for everyone it reaches, leaves nothing to bring (about a second for 10,000 plans).
    pending = protocol_updates.protocol_pending(protocol=protocol, today=clinic_today())
    if reached := max((update.plans for update in pending), default=0):
        link = reverse("admin:recovery_protocol_update_plans", args=[protocol.pk])
        messages.info(
            request,
            format_html(
                "{} already on this protocol {} their plan as it was: "
                '<a href="{}">see what would change and bring it to them from tomorrow</a>.',
                "One patient" if reached == 1 else f"At least {reached} patients",
                "keeps" if reached == 1 else "keep",
                link,
            ),
        )
    else:
        messages.info(
            request,
            "The patients already on this protocol are not affected: their plans are past these steps, or a "
            "clinician tailored them.",
        )


class PhaseInline(LabelledInline):
    model = Phase
    extra = 0
    formfield_overrides = COMPACT_TEXT
    ordering = ["position"]
    fields = ["position", "name", "first_day", "gate", "gate_pain_max", "description"]


class ProtocolStepForm(forms.ModelForm):
    """A step's key is fixed once the step exists: the patients' ticks are recorded under it, and a renamed key
    would show a step they ticked today as new and unticked (and strand its ticks)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "key" in self.fields:
            self.fields["key"].disabled = True  # shown, not sent: what is posted for it is ignored


class ProtocolStepInline(LabelledInline):
    model = ProtocolStep
    form = ProtocolStepForm
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["tip"]
    fields = [
        "position", "key", "tip", "label", "instruction", "first_day", "last_day", "doses_per_day",
        "times_per_week", "gate", "gate_pain_max",
    ]  # fmt: skip
    formfield_overrides = {models.CharField: {"widget": forms.TextInput(attrs={"size": 18})}}


class ProtocolForm(SavedSinceOpenedForm):
    saved_with = (Phase, ProtocolStep)


@admin.register(Protocol)
class ProtocolAdmin(OneClickRevertAdmin):
    form = ProtocolForm
    list_display = ["name", "is_default", "phase_count", "step_count"]
    search_fields = ["name"]
    inlines = [PhaseInline, ProtocolStepInline]

    def get_urls(self):
        update = self.admin_site.admin_view(self.update_plans_view)
        return [path("<int:pk>/update-plans/", update, name="recovery_protocol_update_plans"), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The page says whom an edit reaches: new enrolments, and the patients already on it only when asked.
        extra_context = {**(extra_context or {}), "open_plans": protocol_updates.open_plans(object_id).count()}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is ProtocolStep and formset.has_changed():
            request.protocol_steps_changed = True  # for response_change, below

    def response_change(self, request, obj):
        # Said once more after saving the steps: an edit alone does not reach the patients already on the protocol.
        if getattr(request, "protocol_steps_changed", False):
            say_who_keeps_their_plan(request, obj)
        return super().response_change(request, obj)

    def update_plans_view(self, request, pk):
        """Bring the protocol's steps to the open plans on it, from tomorrow: a preview first, then a POST."""
        protocol = get_object_or_404(Protocol, pk=pk)
        if not (self.has_change_permission(request, protocol) and request.user.has_perm("recovery.change_planstep")):
            raise PermissionDenied
        today = clinic_today()
        if request.method == "POST":
            try:
                done = protocol_updates.protocol_update(protocol=protocol, today=today)
            except IntegrityError:  # a colleague tailored one of these plans at the same moment: all rolled back
                messages.error(request, "A colleague changed one of these plans at that moment: nothing was changed. "
                               "Please try again.")  # fmt: skip
                return redirect("admin:recovery_protocol_update_plans", protocol.pk)
            note(request, Action.CHANGE, target=protocol, description=f"protocol {protocol.pk}: plans updated")
            plans = {update.key: f"{update.plans} plan{pluralize(update.plans)}" for update in done}
            if changed := [f"{update.label} ({plans[update.key]})" for update in done if update.plans]:
                messages.success(request, f"The plans follow the protocol from tomorrow: {', '.join(changed)}.")
            else:
                messages.info(request, "Every open plan on this protocol already follows it: nothing changed.")
            return redirect("admin:recovery_protocol_change", protocol.pk)
        updates = protocol_updates.protocol_pending(protocol=protocol, today=today)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": protocol,
            "title": f"Bring the changes of “{protocol}” to the patients on it",
            "updates": updates,
            # Steps only tailored plans would take are listed, but give nothing to bring.
            "anything_to_bring": any(update.plans for update in updates),
            "starts": protocol_updates.update_starts(today),
        }
        return render(request, "admin/recovery/protocol/update_plans.html", context)

    def get_queryset(self, request):
        # Counted in the list's one query rather than once per row.
        return (
            super()
            .get_queryset(request)
            .annotate(phase_total=Count("phases", distinct=True), step_total=Count("steps", distinct=True))
        )

    @admin.display(description="phases", ordering="phase_total")
    def phase_count(self, protocol):
        return protocol.phase_total

    @admin.display(description="steps", ordering="step_total")
    def step_count(self, protocol):
        return protocol.step_total


@admin.register(ProtocolStep)
class ProtocolStepAdmin(OneClickRevertAdmin):
    """Steps are edited inline on their protocol; this page keeps each step's own history and revert."""

    form = SavedSinceOpenedForm

    list_display = ["label", "key", "protocol", "first_day", "last_day", "doses_per_day", "times_per_week", "gate"]
    list_filter = ["protocol", "gate"]
    list_select_related = ["protocol", "tip"]
    search_fields = ["label", "key"]
    autocomplete_fields = ["tip"]
    ordering = ["protocol", "position"]
    kept_on_restore = ["key"]  # fixed once the step exists (ProtocolStepForm): an old version's key is not restored

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *(["key"] if obj is not None else [])]

    def restored(self, request, obj):
        # As after saving the protocol's steps: a restore reaches new enrolments only, until brought to the others.
        say_who_keeps_their_plan(request, obj.protocol)


@admin.register(Phase)
class PhaseAdmin(OneClickRevertAdmin):
    form = SavedSinceOpenedForm
    list_display = ["name", "protocol", "position", "first_day", "gate"]
    list_select_related = ["protocol"]
    ordering = ["protocol", "position"]

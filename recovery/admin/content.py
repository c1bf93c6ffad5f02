"""The clinic's content in the admin: tips, the standing disclaimer, safety thresholds and protocols."""

import datetime
from types import SimpleNamespace

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models
from django.db.models import Count
from django.forms.formsets import DELETION_FIELD_NAME
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from audit.models import Action
from audit.recorder import note
from recovery import protocol_updates
from recovery.admin.history import OneClickRevertAdmin
from recovery.admin.stale import SharedRecordForm, version_of
from recovery.clock import clinic_today
from recovery.models import Disclaimer, Phase, Protocol, ProtocolStep, RecoveryPlan, SafetyThresholds, Tip
from recovery.models.content import phase_order_problems


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
    form = SharedRecordForm
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
        (None, {"fields": ["title", "slug", "kind", "position", "published", "preview_link"]}),
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

    form = SharedRecordForm

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


def say_whom_a_phase_edit_reached(request, protocol):
    """After a phase changed: phases are not copied into plans (recovery/facts.py reads them as they are), so the
    change reached every patient on the protocol at once, days already past included."""
    if reached := protocol_updates.open_plans(protocol).count():
        patients = {1: "the 1 patient", 2: "both patients"}.get(reached, f"all {reached:,} patients")
        messages.warning(
            request,
            f"The phase change reached {patients} already on this protocol at once, including the phase shown for "
            "days already past.",
        )


def _in_plain_words(message):
    if message == "This field is required.":
        return "required."
    if " saved a change to this " in message:
        return message  # it starts with a person's name (clinic.forms.KeepsWhatItShowed)
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


# How the clinicians call a row of each table, and the field that names it.
ROWS = {Phase: ("Phase", "Phases", "name"), ProtocolStep: ("Step", "Steps", "label")}


def row_problems(inline_admin_formsets):
    """Each phase or step row with errors, named as the clinician knows it, with its problems in plain words:
    [(what, the id of its row or table, [problems])]. The table-wide problems (the phases' order) come first."""
    found = []
    for inline in inline_admin_formsets:
        formset = inline.formset
        what, what_plural, name_field = ROWS[formset.model]
        if formset.non_form_errors():
            found.append((what_plural, f"{formset.prefix}-group", list(formset.non_form_errors())))
        for index, form in enumerate(formset.forms):
            if not form.errors or (formset.can_delete and formset._should_delete_form(form)):
                continue  # a row being deleted is not saved, whatever it says
            name = getattr(form.instance, name_field) if form.instance.pk else form.cleaned_data.get(name_field)
            row = f"{what} “{name}”" if name else f"New {what.lower()} (row {index + 1})"
            problems = []
            for field, messages_ in form.errors.items():
                if field == form._meta.model._meta.pk.name:  # its row is gone: deleted by someone meanwhile
                    problems.append("someone deleted this row after you opened the page, so it cannot be saved.")
                    continue
                label = "" if field == "__all__" else f"{(form.fields[field].label or field).lower()}: "
                problems += [f"{label}{_in_plain_words(message)}" for message in messages_]
            # The link goes to the first field at fault, not the row: the steps' table is wider than the page, and
            # the browser scrolls it sideways to a field (a doses cell was 460 pixels off a tablet's screen).
            fields = [name for name in form.errors if name in form.fields and name != form._meta.model._meta.pk.name]
            anchor = f"id_{form.add_prefix(fields[0])}" if fields else f"{formset.prefix}-{index}"
            found.append((row, anchor, problems))
    return found


class PhaseForm(SharedRecordForm):
    def validate_constraints(self):
        # A phase's position is checked against the other rows of the table (PhaseFormSet), not against the rows as
        # saved: two phases swapping positions would each clash with the other's old one ("Phase with this
        # Protocol and Position already exists.", twice).
        try:
            self.instance.validate_constraints(exclude={*self._get_validation_exclusions(), "position"})
        except ValidationError as error:
            self._update_errors(error)


# A position no phase uses, that a phase changing its position holds for a moment (the largest the column takes).
PARKED_POSITION = 32_767


class SharedTableFormSet(forms.BaseInlineFormSet):
    """A table of a protocol's rows (phases, steps) saved while colleagues may save the same protocol.

    Two pages saving it at once take turns (the protocol's row is locked until the save commits), so each checks
    against what the other wrote. A row a colleague deleted while this page was open stays deleted: it is left out,
    named in a message, and the rest is saved (Django's formset refused the whole page for it, every time)."""

    name_field = "label"

    def full_clean(self):
        self.deleted_meanwhile = []
        if self.is_bound and self.instance.pk:
            Protocol.objects.select_for_update().filter(pk=self.instance.pk).first()
            self._leave_out_rows_deleted_meanwhile()
        super().full_clean()

    def _leave_out_rows_deleted_meanwhile(self):
        pk_name = self.model._meta.pk.name
        stored = {str(pk) for pk in self.model.objects.filter(protocol=self.instance).values_list("pk", flat=True)}
        data = self.data.copy()
        for index in range(self.initial_form_count()):
            prefix = self.add_prefix(index)
            posted = data.get(f"{prefix}-{pk_name}")
            if posted and posted not in stored:
                data[f"{prefix}-{DELETION_FIELD_NAME}"] = "on"  # a deleted form is neither checked nor saved
                self.deleted_meanwhile.append(data.get(f"{prefix}-{self.name_field}") or f"row {index + 1}")
        self.data = data


class PhaseFormSet(SharedTableFormSet):
    """The protocol's phases, checked together: a patient reads the phase of their day from all of them, those a
    colleague added after this page was opened included."""

    name_field = "name"

    def kept_forms(self):
        return [
            form
            for form in self.forms
            if hasattr(form, "cleaned_data")
            and not self._should_delete_form(form)
            and (form.instance.pk or form.has_changed())
        ]

    def clean(self):
        super().clean()  # the same position twice, said by Django
        phases = []
        for form in self.kept_forms():
            data = form.cleaned_data
            if data.get("position") is None or data.get("first_day") is None:
                continue  # said on the row itself
            name = data.get("name") or form.instance.name or "A new phase"
            phases.append(SimpleNamespace(name=name, position=data["position"], first_day=data["first_day"],
                                          gate=data.get("gate")))  # fmt: skip
        on_page = {form.instance.pk for form in self.forms if form.instance.pk}
        stored = Phase.objects.filter(protocol=self.instance) if self.instance.pk else Phase.objects.none()
        added_meanwhile = stored.exclude(pk__in=on_page)
        for other in added_meanwhile:
            if other.position in {phase.position for phase in phases}:
                raise ValidationError(
                    f"Position {other.position} is taken by “{other.name}”, which someone added after you opened "
                    "this page: give your phase another position."
                )
            phases.append(other)
        if problems := phase_order_problems(phases):
            raise ValidationError(problems)

    def save(self, commit=True):
        if commit:
            # The database checks each row's position as it is written, so a swap would clash half-way: the phases
            # that move or go first hold positions no phase uses (an update, which keeps no version in the history),
            # then each is saved with its new position as usual.
            moving = [
                form.instance.pk
                for form in self.initial_forms
                if form.instance.pk and (self._should_delete_form(form) or "position" in form.changed_data)
            ]
            used = set(Phase.objects.filter(protocol=self.instance).values_list("position", flat=True))
            free = (position for position in range(PARKED_POSITION, 0, -1) if position not in used)
            for pk, parked in zip(moving, free, strict=False):
                Phase.objects.filter(pk=pk).update(position=parked)
        return super().save(commit)


class PhaseInline(LabelledInline):
    model = Phase
    form = PhaseForm
    formset = PhaseFormSet
    template = "admin/recovery/protocol/phases_inline.html"  # says who a phase edit reaches; the columns' meaning
    extra = 0
    # Three lines: the description is what patients read of the phase, and its column is narrow.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 40})}}
    ordering = ["position"]
    fields = ["position", "name", "first_day", "gate", "gate_pain_max", "description"]


class ProtocolStepForm(SharedRecordForm):
    """A step's key is fixed once the step exists: the patients' ticks are recorded under it, and a renamed key
    would show a step they ticked today as new and unticked (and strand its ticks)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "key" in self.fields:
            self.fields["key"].disabled = True  # shown, not sent: what is posted for it is ignored


class ProtocolStepInline(LabelledInline):
    model = ProtocolStep
    form = ProtocolStepForm
    formset = SharedTableFormSet
    template = "admin/recovery/protocol/steps_inline.html"  # the columns' meaning under the table
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["tip"]
    fields = [
        "position", "key", "tip", "label", "instruction", "first_day", "last_day", "doses_per_day",
        "times_per_week", "gate", "gate_pain_max",
    ]  # fmt: skip
    formfield_overrides = {models.CharField: {"widget": forms.TextInput(attrs={"size": 18})}}


@admin.register(Protocol)
class ProtocolAdmin(OneClickRevertAdmin):
    form = SharedRecordForm
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

    def render_change_form(self, request, context, *args, **kwargs):
        # The steps' table is wider than the page: its rows' errors are listed at the top too, where they are seen.
        context["row_problems"] = row_problems(context.get("inline_admin_formsets", []))
        return super().render_change_form(request, context, *args, **kwargs)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if gone := getattr(formset, "deleted_meanwhile", None):
            rows = ", ".join(f"“{name}”" for name in gone)
            messages.warning(
                request,
                f"Someone deleted {rows} after you opened this page, so what you typed there was left out; the rest "
                "of your changes are saved.",
            )
        if formset.has_changed():  # for response_change, below
            if formset.model is ProtocolStep:
                request.protocol_steps_changed = True
            elif formset.model is Phase:
                request.protocol_phases_changed = True

    def response_change(self, request, obj):
        # Said once more after saving: the phases reach everyone at once, the steps new enrolments only.
        if getattr(request, "protocol_phases_changed", False):
            say_whom_a_phase_edit_reached(request, obj)
        if getattr(request, "protocol_steps_changed", False):
            say_who_keeps_their_plan(request, obj)
        return super().response_change(request, obj)

    def update_plans_view(self, request, pk):
        """Bring the protocol's steps to the open plans on it, from tomorrow: a preview first, then a POST."""
        protocol = get_object_or_404(Protocol, pk=pk)
        if not (self.has_change_permission(request, protocol) and request.user.has_perm("recovery.change_planstep")):
            raise PermissionDenied
        today = clinic_today()
        version = version_of(protocol, Phase, ProtocolStep)
        if request.method == "POST" and request.POST.get("version") != version:
            # What is brought must be what the preview showed: a colleague's edit saved since is shown first.
            messages.warning(
                request,
                "The protocol was changed after this preview was shown, so nothing was brought to the patients. "
                "Here is what would change now.",
            )
            return redirect("admin:recovery_protocol_update_plans", protocol.pk)
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
            "version": version,
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

    form = SharedRecordForm

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


class PhaseAdminForm(SharedRecordForm):
    """A phase on its own page, checked with the protocol's other phases as they are saved."""

    def clean(self):
        cleaned = super().clean()
        protocol = cleaned.get("protocol")
        if protocol is not None and None not in (cleaned.get("position"), cleaned.get("first_day")):
            others = Phase.objects.filter(protocol=protocol).exclude(pk=self.instance.pk)
            this = SimpleNamespace(**{name: cleaned.get(name) for name in ("name", "position", "first_day", "gate")})
            if problems := phase_order_problems([*others, this]):
                raise ValidationError(problems)
        return cleaned


@admin.register(Phase)
class PhaseAdmin(OneClickRevertAdmin):
    """Phases are edited on their protocol; this page keeps each phase's own history and revert."""

    form = PhaseAdminForm
    list_display = ["name", "protocol", "position", "first_day", "gate"]
    list_select_related = ["protocol"]
    ordering = ["protocol", "position"]

    def restore_problems(self, restored):
        others = Phase.objects.filter(protocol_id=restored.protocol_id).exclude(pk=restored.pk)
        return phase_order_problems([*others, restored])

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        request.phase_changed = form.has_changed()  # for response_change, below

    def response_change(self, request, obj):
        if getattr(request, "phase_changed", False):
            say_whom_a_phase_edit_reached(request, obj.protocol)
        return super().response_change(request, obj)

    def restored(self, request, obj):
        say_whom_a_phase_edit_reached(request, obj.protocol)

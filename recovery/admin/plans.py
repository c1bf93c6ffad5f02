"""Patients' plans in the admin (the clinician's workspace grows here in a later issue)."""

from django.contrib import admin

from recovery.models import Alert, CheckIn, PlanStep, RecoveryPlan


class PlanStepInline(admin.TabularInline):
    model = PlanStep
    extra = 0
    ordering = ["position", "valid_from"]
    autocomplete_fields = ["tip"]
    fields = [
        "position",
        "key",
        "tip",
        "label",
        "first_day",
        "last_day",
        "doses_per_day",
        "times_per_week",
        "gate",
        "gate_pain_max",
        "valid_from",
        "valid_until",
    ]


@admin.register(RecoveryPlan)
class RecoveryPlanAdmin(admin.ModelAdmin):
    list_display = ["patient", "race_date", "status", "clinician", "last_activity_on"]
    list_filter = ["status"]
    list_select_related = ["patient", "clinician"]
    search_fields = ["patient__email", "patient__first_name", "patient__last_name"]
    raw_id_fields = ["patient", "clinician", "cleared_by"]
    inlines = [PlanStepInline]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["plan", "date", "pain", "numbness", "swelling"]
    list_select_related = ["plan__patient"]
    date_hierarchy = "date"


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["plan", "kind", "severity", "date", "acknowledged_at"]
    list_filter = ["kind", "severity"]
    list_select_related = ["plan__patient"]

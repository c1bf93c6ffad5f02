"""Reminders in the admin, read only: for whoever looks after the portal (superusers; no role is given these
permissions), to see what was queued, sent or skipped and why."""

from django.contrib import admin

from clinic.admin_base import ReadOnlyAdmin
from reminders.models import ReminderDelivery, ReminderSettings

# Read only: deleting a delivery row would let the sweep queue that reminder again.


@admin.register(ReminderDelivery)
class ReminderDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["user", "date", "slot", "status", "channel", "due_at", "sent_at", "attempts", "note"]
    list_filter = ["status", "slot", "date"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]
    date_hierarchy = "date"


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(ReadOnlyAdmin):
    list_display = ["user", "enabled", "ice_time_1", "ice_time_2", "ice_time_3", "daily_time", "evening_nudge"]
    list_filter = ["enabled", "evening_nudge"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__last_name"]

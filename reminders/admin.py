"""Reminders in the admin, read only: for whoever looks after the portal (superusers; no role is given these
permissions), to see what was queued, sent or skipped and why."""

from django.contrib import admin

from reminders.models import ReminderDelivery, ReminderSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a delivery row would let the sweep queue that reminder again.
        return False


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

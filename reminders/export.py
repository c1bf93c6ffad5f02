"""The patient's reminder settings and every reminder queued for them, for their data download (whose times
``recovery.export.patient_data`` writes in the clinic's local time, as every other section's)."""

from reminders.models import ReminderDelivery
from reminders.services import reminder_settings_for

SETTINGS_FIELDS = ["enabled", "ice_time_1", "ice_time_2", "ice_time_3", "daily_time", "evening_nudge", "evening_time"]
DELIVERY_FIELDS = ["date", "slot", "due_at", "status", "channel", "sent_at", "note"]


def reminder_data(user):
    """Two sections: the settings in force (the defaults when the patient never changed them), and the deliveries."""
    current = reminder_settings_for(user)
    return {
        "reminder_settings": [{field: getattr(current, field) for field in SETTINGS_FIELDS}],
        "reminder_deliveries": list(
            ReminderDelivery.objects.filter(user=user).order_by("due_at", "slot").values(*DELIVERY_FIELDS)
        ),
    }

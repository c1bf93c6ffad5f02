"""Writes of a patient's reminder settings: small functions named <thing>_<action>."""

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from reminders.models import ReminderSettings


def reminder_settings_for(user):
    """The patient's settings: their saved row, or the defaults (unsaved) when they never changed anything."""
    try:
        return user.reminder_settings
    except ObjectDoesNotExist:
        return ReminderSettings(user=user)


@transaction.atomic
def reminder_settings_save(*, settings):
    """Save the settings a form validated (``settings`` is a ``ReminderSettings``, maybe not saved before)."""
    settings.save()
    return settings


def reminders_unsubscribe(*, user):
    """Turn every reminder off (the unsubscribe link). Saying it twice changes nothing. Returns whether they
    were on."""
    was_on = reminder_settings_for(user).enabled
    current, _created = ReminderSettings.objects.update_or_create(user=user, defaults={"enabled": False})
    user.reminder_settings = current
    return was_on

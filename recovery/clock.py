"""The clinic's clock: "today" is the date in the clinic's time zone, never the server's."""

from django.utils import timezone


def clinic_today():
    return timezone.localdate()

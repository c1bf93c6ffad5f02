"""A patient's reminder settings, and one delivery record per patient, day and slot."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from reminders.slots import Slot, Times

# The evening nudge says nothing has been logged "today": sent at 00:15 it would say so every night, 15 minutes into
# the day. From late afternoon to half an hour before midnight, the day is mostly behind it. The one place for the
# window: the model's constraint, the form and the data migration that moved the times saved outside it.
EVENING_FROM, EVENING_UNTIL = datetime.time(17, 0), datetime.time(23, 30)
EVENING_DEFAULT = datetime.time(20, 0)
EVENING_WINDOW = (
    f"Choose a time from {EVENING_FROM:%H:%M} to {EVENING_UNTIL:%H:%M}. The evening nudge comes only if nothing has "
    "been logged that day, so it comes late in the day."
)


def in_the_evening(time):
    return EVENING_FROM <= time <= EVENING_UNTIL


class ReminderSettings(models.Model):
    """What a patient asked for. Without a row the field defaults apply (reminders on): patients enrolled for a
    plan get its reminders, and every e-mail has a one-click way out."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="reminder_settings"
    )
    enabled = models.BooleanField("send me reminders", default=True)
    ice_time_1 = models.TimeField("first ice session", default=datetime.time(8, 0))
    ice_time_2 = models.TimeField("second ice session", default=datetime.time(13, 0))
    ice_time_3 = models.TimeField("third ice session", default=datetime.time(18, 0))
    daily_time = models.TimeField("daily reminder", default=datetime.time(9, 0))
    evening_nudge = models.BooleanField("a gentle evening nudge when I have logged nothing that day", default=True)
    evening_time = models.TimeField("evening nudge", default=EVENING_DEFAULT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "reminder settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(ice_time_1__lt=F("ice_time_2"), ice_time_2__lt=F("ice_time_3")),
                name="reminder_ice_times_in_order",
                violation_error_message="Choose three different times for the ice sessions.",
            ),
            # Only while the nudge is on: a patient who turns it off keeps whatever their box says.
            models.CheckConstraint(
                condition=Q(evening_nudge=False) | Q(evening_time__gte=EVENING_FROM, evening_time__lte=EVENING_UNTIL),
                name="reminder_evening_nudge_in_the_evening",
                violation_error_message=EVENING_WINDOW,
            ),
        ]

    def __str__(self):
        return f"Reminders of {self.user} ({'on' if self.enabled else 'off'})"

    def times(self):
        return Times(
            ice=(self.ice_time_1, self.ice_time_2, self.ice_time_3),
            daily=self.daily_time,
            evening=self.evening_time if self.evening_nudge else None,
        )


class ReminderDelivery(models.Model):
    """One reminder for one patient, day and slot: created by the sweep before the send is queued, so that two
    sweeps (or a retried one) can never queue the same reminder twice; claimed by the worker before it sends, so
    that two workers never send it twice (reminders/services.py)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not needed"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_deliveries")
    date = models.DateField(help_text="The day in the clinic's time zone.")
    slot = models.CharField(max_length=16, choices=Slot)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    channel = models.CharField(max_length=16, blank=True, help_text="How it went out: e-mail, or a later SMS.")
    created_at = models.DateTimeField(auto_now_add=True)
    # The worker's claim: which worker is sending it, since when. A claim older than the lease is a worker that
    # died mid-send, and the re-queued task may take it over.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why it was not sent.")

    class Meta:
        verbose_name_plural = "reminder deliveries"
        ordering = ["-due_at"]
        constraints = [
            # The sweep's lookups of what was already queued use this index too.
            models.UniqueConstraint(fields=["user", "date", "slot"], name="reminder_once_per_patient_day_and_slot"),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="reminder_sent_has_sent_at",
            ),
        ]
        # The sweep deletes the oldest days' records (reminders/delivery.py, deliveries_prune).
        indexes = [models.Index(fields=["date"], name="reminder_delivery_by_date")]

    def __str__(self):
        return f"{self.get_slot_display()} reminder for {self.user} on {self.date} ({self.get_status_display()})"

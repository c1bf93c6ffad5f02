"""The audit log: who saw or changed whose data, when, from where; sign-ins; refused accesses.

Entries are written once and never changed: the admin shows them read-only to superusers, and the model refuses
to update or delete them through the ORM's usual paths.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Action(models.TextChoices):
    VIEW = "view", "viewed"
    CREATE = "create", "created"
    CHANGE = "change", "changed"
    DELETE = "delete", "deleted"
    EXPORT = "export", "exported"
    LOGIN = "login", "signed in"
    LOGIN_FAILED = "login_failed", "sign-in failed"
    LOGOUT = "logout", "signed out"
    ACCESS_DENIED = "access_denied", "refused"


class ImmutableEntry(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditEventQuerySet(models.QuerySet):
    # No update() guard: removing an account sets its entries' actor to NULL (the e-mail copy stays).
    def delete(self):
        raise ImmutableEntry("Audit entries cannot be deleted.")


class AuditEvent(models.Model):
    at = models.DateTimeField("when", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="who",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Copied, so the entry still says who it was if the account is renamed or removed.
    actor_email = models.CharField("who (e-mail)", max_length=254, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    # The model's label ("recovery.recoveryplan") rather than a ContentType key: no lookup, so no extra query.
    object_type = models.CharField("type", max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    description = models.CharField("what", max_length=200, blank=True)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="patient concerned",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    patient_email = models.CharField("patient (e-mail)", max_length=254, blank=True)
    ip_address = models.GenericIPAddressField("from", null=True, blank=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=500, blank=True)
    status = models.PositiveSmallIntegerField("answer", null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "audit event"
        indexes = [
            # The admin's list, newest first, and "everything about this patient" / "everything this person did".
            models.Index(fields=["-at"], name="audit_event_at"),
            models.Index(fields=["patient", "-at"], name="audit_event_patient_at"),
            models.Index(fields=["actor", "-at"], name="audit_event_actor_at"),
        ]

    def __str__(self):
        who = self.actor_email or "someone not signed in"
        what = f" {self.description}" if self.description else ""
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.get_action_display()}{what}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableEntry("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableEntry("Audit entries cannot be deleted.")

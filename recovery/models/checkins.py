"""How the hip feels each day, and the alerts that bring a clinician in."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from recovery.models.plans import RecoveryPlan


class CheckIn(models.Model):
    """The patient's daily check-in: pain on the 0–10 numeric rating scale and the red-flag questions."""

    # The red-flag questions, in the order the check-in asks them (CLINICAL.md).
    RED_FLAG_FIELDS = (
        "groin_pain_on_weight",
        "night_pain",
        "cannot_bear_weight",
        "fall_or_knock",
        "fever_or_hot_joint",
        "cola_coloured_urine",
        "confusion_vomiting_headache",
        "bladder_or_bowel_change",
    )

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="check_ins")
    date = models.DateField()
    pain = models.PositiveSmallIntegerField(help_text="0 = no pain, 10 = the worst pain imaginable.")
    numbness = models.BooleanField("numbness or tingling", default=False)
    swelling = models.BooleanField(default=False)
    note = models.TextField(blank=True, max_length=2000)
    groin_pain_on_weight = models.BooleanField("groin pain when hopping or putting weight on the leg", default=False)
    night_pain = models.BooleanField("pain at night", default=False)
    cannot_bear_weight = models.BooleanField("unable to bear weight on the leg", default=False)
    fever_or_hot_joint = models.BooleanField("fever, or a hot swollen joint", default=False)
    cola_coloured_urine = models.BooleanField("cola-coloured (dark brown) urine", default=False)
    confusion_vomiting_headache = models.BooleanField("confusion, vomiting or a worsening headache", default=False)
    # Two more red flags of CLINICAL.md (a fracture; nerve involvement). db_default: the release before them keeps
    # saving check-ins (its INSERTs leave these columns out) between `migrate` and the reload.
    fall_or_knock = models.BooleanField("a fall, or a knock to the hip", default=False, db_default=False)
    bladder_or_bowel_change = models.BooleanField(
        "new trouble controlling your bladder or bowels", default=False, db_default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "check-in"
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "date"], name="check_in_once_per_day"),
            models.CheckConstraint(condition=Q(pain__gte=0, pain__lte=10), name="check_in_pain_0_to_10"),
        ]

    def __str__(self):
        return f"Check-in {self.date:%d %b %Y}"

    def red_flags(self):
        return [name for name in self.RED_FLAG_FIELDS if getattr(self, name)]

    def red_flag_words(self):
        """The red-flag questions answered yes, in the plain words the patient was asked."""
        return [str(self._meta.get_field(name).verbose_name) for name in self.red_flags()]


class AlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(acknowledged_at__isnull=True)

    def by_priority(self):
        """The one order alerts are listed in (the queue, a patient's page, the visit summary, the warnings): open
        ones first, the most severe and newest of them first, so an older open red flag is never below alerts
        already dealt with. Dealt-with alerts follow in the order they were acknowledged."""
        return self.order_by(*ALERT_PRIORITY)


# NULLS FIRST said outright: an ascending order puts NULLs (open alerts) last on PostgreSQL, first on SQLite.
ALERT_PRIORITY = (F("acknowledged_at").asc(nulls_first=True), F("severity").desc(), F("created_at").desc())


class Alert(models.Model):
    class Kind(models.TextChoices):
        RED_FLAG = "red_flag", "Red flag"
        HIGH_PAIN = "high_pain", "High pain"
        RISING_PAIN = "rising_pain", "Rising pain"
        NUMBNESS = "numbness", "Numbness or tingling"
        COMPRESSION_NUMBNESS = "compression_numbness", "Numbness under compression"
        INACTIVE = "inactive", "Inactive"

    class Severity(models.IntegerChoices):
        WATCH = 1, "Watch"
        HIGH = 2, "High"
        URGENT = 3, "Urgent"

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=24, choices=Kind)
    severity = models.PositiveSmallIntegerField(choices=Severity)
    date = models.DateField()
    reason = models.TextField(help_text="What raised it, in plain words.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement_note = models.TextField(blank=True, max_length=2000)  # the forms say so; nothing is cut

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ALERT_PRIORITY
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "date"], name="alert_once_per_plan_kind_and_day"),
        ]
        indexes = [
            # The alerts queue's first rows and its "open" filter, the workspace's counts: open alerts, the most
            # severe and newest first (``ALERT_PRIORITY``). Partial, so it stays as small as the open alerts: an
            # index on acknowledged_at sorts NULLs last on PostgreSQL and could not serve the NULLS FIRST order.
            models.Index(
                fields=["-severity", "-created_at"], condition=Q(acknowledged_at__isnull=True), name="alert_open_queue"
            ),
            # The clinician's patients list counts each plan's open alerts to sort all plans by them
            # (recovery.summaries.with_summary_columns); open alerts are few, so the index stays small.
            models.Index(fields=["plan"], condition=Q(acknowledged_at__isnull=True), name="alert_open_by_plan"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.plan.patient} ({self.date:%d %b %Y})"

"""A patient's plan: the steps copied from a protocol at enrolment, and what the patient ticked."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from clinic.sql import fetch_instance, select_columns
from recovery.models.content import Protocol, StepRules, step_constraints


def quiet_since_expression():
    """The day a patient's silence counts from, in SQL: the one definition of "inactive" (DESIGN.md), read by the
    inactive filter (``summaries.inactive_q``), the orders by silence and each row's words (``quiet_since``).

    Their last tick or check-in, else the day the plan started (in the clinic's time zone); or the end of a later
    pause, since days on hold ask nothing of them. Never NULL (SQLite's MAX() of a NULL is NULL)."""
    started = Coalesce("last_activity_on", TruncDate("created_at"))
    return Greatest(started, Coalesce("resumed_on", started))


class RecoveryPlanQuerySet(models.QuerySet):
    def open(self):
        """Active or paused: the plan a patient has right now (at most one, enforced by the database)."""
        return self.filter(status__in=RecoveryPlan.OPEN_STATUSES)

    def with_quiet_since(self):
        """Annotated ``quiet_since_on`` (``quiet_since_expression``), which ``RecoveryPlan.quiet_since`` reads."""
        return self.annotate(quiet_since_on=quiet_since_expression())

    def quietest_first(self):
        """Ordered by ``RecoveryPlan.quiet_since``, the longest silent first."""
        return self.with_quiet_since().order_by("quiet_since_on", "pk")

    def open_plan_of_member(self, user, group_name):
        """``user``'s open plan if ``user`` belongs to the group ``group_name``, else None.

        The same answer as ``open().filter(patient=user, patient__groups__name=group_name).first()``, written as
        SQL because every patient page asks it: the ORM spent 0.5 ms of Python building that query each time,
        more than the query itself, and a raw queryset still 0.25 ms reading its own result (docs/BENCHMARKS.md).
        """
        groups = user._meta.get_field("groups")
        plan, user_groups, group = (
            self.model._meta.db_table,
            groups.remote_field.through._meta.db_table,
            groups.related_model._meta.db_table,
        )
        statuses = ", ".join(["%s"] * len(RecoveryPlan.OPEN_STATUSES))
        sql = (
            f'SELECT {select_columns(self.model, "p")} FROM "{plan}" p'
            f' JOIN "{user_groups}" ug ON ug.user_id = p.patient_id JOIN "{group}" g ON g.id = ug.group_id'
            f" WHERE p.patient_id = %s AND p.status IN ({statuses}) AND g.name = %s"
        )
        return fetch_instance(self.model, self.db, sql, [user.pk, *RecoveryPlan.OPEN_STATUSES, group_name])

    def active(self):
        return self.filter(status=RecoveryPlan.Status.ACTIVE)


class RecoveryPlan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed (discharged)"

    OPEN_STATUSES = (Status.ACTIVE, Status.PAUSED)

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plans")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="plans")
    race_date = models.DateField(help_text="Day 0 of the plan.")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient_plans",
        limit_choices_to={"is_staff": True},
        help_text="The responsible clinician.",
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    # The day a clinician paused the plan: its days from then on are on hold, neither due nor missed. On resume
    # (or discharge) they become days off (recovery/care.py), so the record stays after the pause ends.
    paused_on = models.DateField(null=True, blank=True, verbose_name="paused since")
    # The day the last pause ended: the days on hold were no silence of the patient's, so "inactive" counts from here.
    resumed_on = models.DateField(null=True, blank=True, editable=False)
    note_to_patient = models.TextField(
        blank=True,
        max_length=1000,
        help_text="Shown to the patient at the top of their Today page, in your words, e.g. “Keep icing twice a "
        "day until Friday; we'll look at the stretches at your next visit.” Leave empty to show nothing.",
    )
    # When the note was last written: the patient reads it dated, so "from today: take it gently" three weeks on
    # is not taken for today's advice.
    note_to_patient_on = models.DateField(null=True, blank=True, editable=False)
    cleared_to_run_on = models.DateField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A small summary kept up to date by the services that record activity, so that the clinician's list
    # can sort and filter on it without reading every tick (DESIGN.md).
    last_activity_on = models.DateField(null=True, blank=True)
    # The same for adherence: the share of the tasks due in the seven whole days up to ``last_week_ends_on`` that
    # were done, as a rounded percentage (None: nothing was due). Worked out by the clinic's clock once a day, and
    # again when a patient changes one of those days (recovery/summaries.py, "Last week, stored").
    last_week_percent = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_week_ends_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecoveryPlanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=Q(status__in=["active", "paused"]), name="one_open_plan_per_patient"
            ),
            models.CheckConstraint(
                condition=Q(status="paused", paused_on__isnull=False) | (~Q(status="paused") & Q(paused_on=None)),
                name="plan_paused_on_when_paused",
            ),
        ]

    def __str__(self):
        return f"{self.patient} — race {self.race_date:%d %b %Y}"

    def day_number(self, on):
        return (on - self.race_date).days

    @property
    def started_on(self):
        """The day the plan was started in the portal (enrolment), in the clinic's time zone."""
        return timezone.localdate(self.created_at)

    @property
    def quiet_since(self):
        """The day the patient's silence counts from (``quiet_since_expression``), as the database worked it out: a
        plan loaded ``with_quiet_since()`` (or ``summaries.with_summary_columns``). No copy of the rule in Python, so
        a row's words cannot drift from the filter and the order that put the row there."""
        try:
            return self.quiet_since_on
        except AttributeError:
            raise AttributeError(
                "RecoveryPlan.quiet_since needs the plan loaded with RecoveryPlan.objects.with_quiet_since()."
            ) from None

    @property
    def quiet_since_resume(self):
        """Whether the silence began with the end of a pause, not with the patient's last entry (or the start)."""
        return self.resumed_on is not None and self.resumed_on == self.quiet_since


class PlanStep(StepRules):
    """One patient's copy of a protocol step, in force from ``valid_from`` until the day before ``valid_until``.

    Tailoring a step closes the current version and opens a new one, so past days keep the rules they were
    done under.
    """

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="steps")
    valid_from = models.DateField(null=True, blank=True, help_text="Empty: from the start of the plan.")
    valid_until = models.DateField(null=True, blank=True, help_text="Empty: no end. The step stops on this date.")
    # db_default: the release before this column keeps enrolling (its INSERTs leave the column out) until reloaded.
    tailored = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Changed, stopped or added for this patient: updates from the protocol leave it alone.",
    )

    class Meta:
        ordering = ["plan", "position", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="plan_step_valid_until_after_from",
            ),
            # A step has one version with no end at most: tailoring and protocol updates end one before they open
            # the next, and two writers racing to add the same step cannot both succeed.
            models.UniqueConstraint(
                fields=["plan", "key"], condition=Q(valid_until__isnull=True), name="plan_step_one_open_version"
            ),
            *step_constraints("plan_step"),
        ]

    def __str__(self):
        return self.label


class Completion(models.Model):
    """How many of a step's doses the patient ticked on a day. Rows exist only for what was ticked.

    Keyed by the step's key rather than a step version, so ticks survive a clinician tailoring the step.
    """

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="completions")
    step_key = models.SlugField(max_length=40)
    date = models.DateField()
    count = models.PositiveSmallIntegerField()
    # The page render that wrote the count (its "tap" token): the second tap of a double tap sends the same token,
    # another device's stale page another one (services.completion_set).
    tap = models.CharField(max_length=24, blank=True, default="", db_default="")  # a raw COPY (bench) leaves it out
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "step_key", "date"], name="completion_one_row_per_step_and_day"),
            models.CheckConstraint(condition=Q(count__gte=1), name="completion_count_positive"),
        ]
        # /today/ and /progress/ read a plan's ticks by date range.
        indexes = [models.Index(fields=["plan", "date"], name="completion_plan_date")]

    def __str__(self):
        return f"{self.step_key} × {self.count} on {self.date}"


class ExcusedDay(models.Model):
    """A day the patient could not follow the plan (e.g. ill): it freezes adherence instead of breaking it."""

    plan = models.ForeignKey(RecoveryPlan, on_delete=models.CASCADE, related_name="excused_days")
    date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    # Written by the clinic when a pause ends (recovery/care.py), not by the patient, who cannot take it back.
    on_hold = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["plan", "date"], name="excused_day_once_per_plan")]

    def __str__(self):
        return f"Excused {self.date}"

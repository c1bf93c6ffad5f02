"""What clinicians edit in the admin: the clinic's tips, the recovery protocols and the safety thresholds."""

import itertools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from clinic.links import link_to
from recovery import content_cache

# A recovery plan's day numbers: two years is far beyond any protocol, and every day's date stays a date.
MAX_DAY = 730
DAY_NUMBER_LIMIT = MaxValueValidator(MAX_DAY, f"Day numbers go up to {MAX_DAY} (two years after the race).")
# A pain limit is a score on the check-in's 0-10 scale.
PAIN_SCORE_LIMIT = MaxValueValidator(10, "Pain is scored from 0 to 10: at most 10.")
PAIN_LIMIT_HELP = "Only for the gate “Pain at most N”: the highest pain score (0 to 10) at which it opens."
# Patients read a tip on a phone: a 300,000-character body timed the page out. The clinic's sheet's longest is 265.
TIP_BODY_MAX = 5000


class TipQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


# What the patients' tip pages show of a tip: the rows the content cache keeps (recovery/content_cache.py).
TIP_PAGE_FIELDS = ["id", "title", "slug", "kind", "position", "summary", "body"]


class Tip(models.Model):
    """One item of the clinic's tip sheet, in the clinic's own words."""

    class Kind(models.TextChoices):
        RECOVERY = "recovery", "Recovery"
        PREVENTION = "prevention", "Injury prevention"

    title = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=16, choices=Kind)
    position = models.PositiveSmallIntegerField(help_text="Order within its kind, as on the printed sheet.")
    summary = models.CharField(max_length=200, help_text="One plain sentence shown in lists.")
    body = models.TextField(
        # A validator rather than max_length, so that the admin says it in plain words, and a browser does not
        # silently cut a pasted text at the limit.
        validators=[
            MaxLengthValidator(
                TIP_BODY_MAX,
                f"A tip can be at most {TIP_BODY_MAX:,} characters long (this one has %(show_value)s): shorten it, "
                "or split it into two tips.",
            )
        ],
        help_text=f"Plain text, as patients read it: a new line starts a new line, and nothing else is formatted "
        f"(*stars* or #hashes show as typed). At most {TIP_BODY_MAX:,} characters.",
    )
    published = models.BooleanField(default=True)
    review_note = models.TextField(
        blank=True, help_text="Why this tip needs a clinician's review; clear it once reviewed."
    )
    last_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_reviewed_on = models.DateField(null=True, blank=True)

    history = HistoricalRecords()
    objects = TipQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "position"], name="tip_unique_position_per_kind"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return link_to("recovery:tip", self.slug)  # the tip list links all 14 tips: each reversed once per process

    @classmethod
    def published_tips(cls):
        """The published tips in the sheet's order, with what the patients' tip pages show (from the content cache:
        every patient reads the same 14, and they change only when a clinician edits one)."""
        rows = content_cache.rows(
            "published-tips", TIP_PAGE_FIELDS, lambda: list(cls.objects.published().values_list(*TIP_PAGE_FIELDS))
        )
        return [cls(**dict(zip(TIP_PAGE_FIELDS, row, strict=True)), published=True) for row in rows]


class Disclaimer(models.Model):
    """The sheet's closing advice, shown beside every tip: the portal does not replace a clinician."""

    text = models.TextField()
    history = HistoricalRecords()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="disclaimer_single_row")]

    def __str__(self):
        return "Standing disclaimer"

    @classmethod
    def current(cls):
        rows = content_cache.rows("disclaimer", ["text"], lambda: list(cls.objects.filter(pk=1).values_list("text")))
        return rows[0][0] if rows else ""


class SafetyThresholds(models.Model):
    """The numbers behind the pain traffic light and the alerts: data that clinicians tune, not code."""

    ease_off_pain_from = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="The pain score (1 to 10) from which a patient is told to ease off (amber).",
    )
    alert_pain_from = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="The pain score (1 to 10) from which the patient is told to stop and the clinic is alerted (red).",
    )
    pain_rise_points = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A rise of this many points over the previous three days' average raises an alert.",
    )
    inactive_after_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Days with no tick and no check-in after which a patient counts as inactive.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "safety thresholds"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="safety_thresholds_single_row"),
            models.CheckConstraint(
                condition=Q(ease_off_pain_from__lt=F("alert_pain_from")), name="safety_amber_below_red"
            ),
            models.CheckConstraint(
                condition=Q(alert_pain_from__gte=1, alert_pain_from__lte=10), name="safety_alert_pain_in_scale"
            ),
        ]

    def __str__(self):
        return "Safety thresholds"

    def clean(self):
        if self.ease_off_pain_from is not None and self.alert_pain_from is not None:
            if self.ease_off_pain_from >= self.alert_pain_from:
                raise ValidationError({"ease_off_pain_from": "The ease-off level must be below the alert level."})

    @classmethod
    def current(cls):
        thresholds, _ = cls.objects.get_or_create(pk=1)
        return thresholds


class ProtocolQuerySet(models.QuerySet):
    def default(self):
        return self.filter(is_default=True).first()


class Protocol(models.Model):
    """A named schedule of phases and steps, copied into a patient's plan at enrolment."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False, help_text="Preselected when reception enrols a patient.")
    history = HistoricalRecords()
    objects = ProtocolQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_protocol"),
        ]

    def __str__(self):
        return self.name


class Gate(models.TextChoices):
    NONE = "none", "Always open"
    PAIN = "pain", "Pain at most N"
    CLEARANCE = "clearance", "Cleared to run by a clinician"


def gate_constraints(prefix):
    return [
        models.CheckConstraint(
            # "Is not null" said: a NULL limit would make the check unknown, which SQL lets through.
            condition=~Q(gate=Gate.PAIN) | Q(gate_pain_max__isnull=False, gate_pain_max__gte=0, gate_pain_max__lte=10),
            name=f"{prefix}_pain_gate_has_limit",
        ),
        models.CheckConstraint(condition=Q(first_day__lte=MAX_DAY), name=f"{prefix}_first_day_within_two_years"),
    ]


class Phase(models.Model):
    """A stage of recovery that starts on a day (race day is day 0) once its entry gate opens."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(help_text="The order of the phases: 1 comes first.")
    first_day = models.PositiveSmallIntegerField(
        help_text="Day number (race day is day 0). A phase lasts until the next one starts. A change reaches every "
        "current patient at once.",
        validators=[DAY_NUMBER_LIMIT],
    )
    gate = models.CharField(
        max_length=16,
        choices=Gate,
        default=Gate.NONE,
        help_text="What the phase waits for besides its first day: nothing, a low pain score, or the sign-off to run.",
    )
    gate_pain_max = models.PositiveSmallIntegerField(
        "pain limit", null=True, blank=True, validators=[PAIN_SCORE_LIMIT], help_text=PAIN_LIMIT_HELP
    )
    description = models.TextField(help_text="Patients read it on their Today and Progress pages.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "position"], name="phase_unique_position"),
            *gate_constraints("phase"),
        ]

    def __str__(self):
        return f"{self.name} (from day {self.first_day})"

    def clean(self):
        if self.gate == Gate.PAIN and self.gate_pain_max is None:
            raise ValidationError({"gate_pain_max": "Give the highest pain score at which this phase may start."})


def phase_order_problems(phases):
    """What is wrong with a protocol's phases taken together (Phase rows, or anything with their name, position,
    first day and gate), in plain words; [] when nothing is.

    A patient is in the furthest phase, by position, whose first day has come and whose gate is open
    (rules.phase_on). So first days must rise with position, or a patient reads the wrong phase; and a phase after
    one that waits for the sign-off to run must wait for it too, or an uncleared patient moves on past it.
    (A first phase after race day is allowed: the days before it simply show no phase.)"""
    phases = sorted(phases, key=lambda phase: phase.position)
    problems = []
    for before, phase in itertools.pairwise(phases):
        if phase.position == before.position:
            continue  # said by the form as a duplicate position
        if phase.first_day <= before.first_day:
            problems.append(
                f"“{phase.name}” (position {phase.position}) starts on day {phase.first_day}, which is not after "
                f"“{before.name}” (position {before.position}, from day {before.first_day}): each phase must start "
                "on a later day than the one before it. Change a first day, or the positions."
            )
    gated = next((phase for phase in phases if phase.gate == Gate.CLEARANCE), None)
    if gated is not None:
        for phase in phases:
            if phase.position > gated.position and phase.gate != Gate.CLEARANCE:
                problems.append(
                    f"“{phase.name}” comes after “{gated.name}”, which waits for a clinician's sign-off to run: "
                    f"give it that gate too (“{Gate.CLEARANCE.label}”), or move it before."
                )
    return problems


class StepRules(models.Model):
    """What to do and when: shared by a protocol's steps and the tailored copies in each plan."""

    key = models.SlugField(
        max_length=40,
        help_text="A short name, e.g. 'ice', set when the step is added and fixed then: patients' ticks are "
        "recorded under it.",
    )
    tip = models.ForeignKey(
        Tip,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        help_text="The tip the patient opens from the step (“Why this helps”).",
    )
    label = models.CharField(max_length=120, help_text="Short task name, e.g. 'Ice the hip for 15–20 minutes'.")
    instruction = models.CharField(max_length=300, help_text="What to do, in plain words.")
    position = models.PositiveSmallIntegerField(help_text="The order of the patient's checklist: 1 comes first.")
    first_day = models.PositiveSmallIntegerField(
        help_text="Day number; race day is day 0.", validators=[DAY_NUMBER_LIMIT]
    )
    last_day = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Leave empty to keep it going.", validators=[DAY_NUMBER_LIMIT]
    )
    doses_per_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1, "At least 1."), MaxValueValidator(12, "At most 12.")],
        help_text="How many times a day the patient does it and ticks it (1 to 12). 1 for a step done some days "
        "a week.",
    )
    times_per_week = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, "At least 1."),
            MaxValueValidator(6, "At most 6: for every day, leave it empty."),
        ],
        help_text="Empty: every day. A number: that many days a week (once on each of those days).",
    )
    gate = models.CharField(
        max_length=16,
        choices=Gate,
        default=Gate.NONE,
        help_text="What the step waits for besides its first day: nothing, a low pain score, or the sign-off to run.",
    )
    gate_pain_max = models.PositiveSmallIntegerField(
        "pain limit", null=True, blank=True, validators=[PAIN_SCORE_LIMIT], help_text=PAIN_LIMIT_HELP
    )

    class Meta:
        abstract = True

    def clean(self):
        errors = {}
        if self.last_day is not None and self.first_day is not None and self.last_day < self.first_day:
            errors["last_day"] = "The last day cannot be before the first day."
        if self.times_per_week and self.doses_per_day and self.doses_per_day != 1:
            errors["doses_per_day"] = "A step done some days a week is done once on each of those days."
        if self.gate == Gate.PAIN and self.gate_pain_max is None:
            errors["gate_pain_max"] = "Give the highest pain score at which this step unlocks."
        if errors:
            raise ValidationError(errors)


def step_constraints(prefix):
    return [
        models.CheckConstraint(
            condition=Q(last_day__isnull=True) | Q(last_day__gte=F("first_day")), name=f"{prefix}_last_day_after_first"
        ),
        models.CheckConstraint(
            condition=Q(last_day__isnull=True) | Q(last_day__lte=MAX_DAY), name=f"{prefix}_last_day_within_two_years"
        ),
        models.CheckConstraint(
            condition=Q(doses_per_day__gte=1, doses_per_day__lte=12), name=f"{prefix}_doses_1_to_12"
        ),
        models.CheckConstraint(
            condition=Q(times_per_week__isnull=True) | Q(times_per_week__gte=1, times_per_week__lte=6, doses_per_day=1),
            name=f"{prefix}_weekly_once_a_day",
        ),
        *gate_constraints(prefix),
    ]


class ProtocolStep(StepRules):
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="steps")
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol", "position"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "key"], name="protocol_step_unique_key"),
            *step_constraints("protocol_step"),
        ]

    def __str__(self):
        return self.label

"""Writes that touch a patient's plan: each a small function, atomic, named <thing>_<action>."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recovery import rules
from recovery.facts import facts_for_plan
from recovery.models import Completion, ExcusedDay, PlanStep, RecoveryPlan


def _one_year_before(today):
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def race_date_problem(race_date, today, *, current=None):
    """Why a race date cannot be a plan's day 0, in plain words; None when it can. The front desk (one patient or a
    file of them), a change of the race date and a clinician's re-enrolment all ask this.

    ``current``: the plan's race date now. Kept as it is, it is not judged again (a plan that has run for over a
    year still takes a new phone number or a note)."""
    if race_date == current:
        return None
    if race_date > today:
        return "The race date is in the future. A plan starts on race day: choose the day they ran."
    if race_date < _one_year_before(today):
        return "The race date is more than a year ago. Check the year."
    return None


class Refused(ValueError):
    """A request the rules turn down; its message is written for the patient."""


STEP_FIELDS = [
    "key", "tip_id", "label", "instruction", "position", "first_day", "last_day",
    "doses_per_day", "times_per_week", "gate", "gate_pain_max",
]  # fmt: skip


@transaction.atomic
def plan_enrol(*, patient, protocol, race_date, clinician=None):
    """Start a plan on ``protocol`` for ``patient``, copying its steps so they can be tailored for this patient."""
    plan = RecoveryPlan.objects.create(patient=patient, protocol=protocol, race_date=race_date, clinician=clinician)
    PlanStep.objects.bulk_create(plan_step_copy(step, plan=plan) for step in protocol.steps.all())
    return plan


def plan_step_copy(step, **placement):
    """A plan's (unsaved) copy of a protocol's step: its STEP_FIELDS, and ``placement`` (the plan, a start date)."""
    return PlanStep(**{name: getattr(step, name) for name in STEP_FIELDS}, **placement)


def plan_note_activity(plan, date):
    # The clinician's list sorts and filters on this summary instead of reading every tick.
    if plan.last_activity_on is not None and plan.last_activity_on >= date:
        return  # already noted (the plan was read during this request): a patient's second tick writes no more
    RecoveryPlan.objects.filter(pk=plan.pk).filter(
        Q(last_activity_on__isnull=True) | Q(last_activity_on__lt=date)
    ).update(last_activity_on=date)
    plan.last_activity_on = date


def plan_note_past_change(plan, date, today):
    """Something changed on ``date`` (a late tick or day off; the days from a corrected race date or a withdrawn
    clearance on): when it is before today, the plan's stored share of last week is cleared, and the clinic's next
    sweep works it out again (summaries.last_week_store)."""
    if date < today:
        RecoveryPlan.objects.filter(pk=plan.pk).update(last_week_ends_on=None)


def plan_race_date_correct(plan, race_date):
    """Move the plan's day 0. Every day's number moves with it, so last week's stored share is worked out again.

    A return-to-running sign-off dated before the new race day was given for another race (last season's plan
    moved to this one): it is withdrawn, or the running steps would open on the new day 21 with nobody's say-so.
    Returns the date of the sign-off withdrawn, or None."""
    withdrawn = None
    if plan.cleared_to_run_on is not None and plan.cleared_to_run_on < race_date:
        withdrawn, plan.cleared_to_run_on, plan.cleared_by = plan.cleared_to_run_on, None, None
    plan.race_date = race_date
    plan.last_week_ends_on = None
    plan.save(update_fields=["race_date", "last_week_ends_on", "cleared_to_run_on", "cleared_by", "updated_at"])
    return withdrawn


@transaction.atomic
def completion_set(*, plan, step_key, date, count, today, shown=None, tap=""):
    """Record that ``count`` doses of a step were done on ``date``: the count wanted, not a toggle.

    Sending the same count twice changes nothing, so a double click or a retried request is harmless.
    ``shown``: the count the patient's page showed (None: not known, e.g. the check-in ticking its own task). When
    another device has changed it since, nothing is written and ``Refused`` says what the count is now: a laptop
    left open must not take back the phone's doses (``rules.changed_since_shown``). ``tap``: the token of the page
    render the tick came from, kept with the count it writes: a tick asking for the count already stored comes from
    the same render (a double tap, harmless) or from another device's stale page, whose dose would be lost unseen.
    Returns the plan's facts for the date's week up to today, with the new count: the page can show them
    without loading them again.
    """
    # A paused plan keeps only its open step's ticks (the check-in's), so a plan resumed the same day counts the
    # check-in the patient made meanwhile.
    kept_open = plan.status == RecoveryPlan.Status.PAUSED and rules.open_on_hold(step_key)
    if plan.status != RecoveryPlan.Status.ACTIVE and not kept_open:
        raise Refused("Your plan is paused. Please call the clinic if you have questions.")
    if not rules.is_editable(date, today):
        # Refused before its week is loaded: a posted 0001-01-01 has no week before it (OverflowError).
        raise Refused(rules.tick_problem(None, step_key, date, count, today))
    facts = facts_for_plan(plan, date - rules.WEEK_REACH, today)
    problem, task = rules.tick_check(facts, step_key, date, count, today, shown=shown)
    if problem:
        raise Refused(problem)
    if shown is None:
        _completion_write(plan, step_key, date, count)
    elif count == task.done:
        # Already so: the second tap of a double tap, or a report of numbness on a task done; or, from a page that
        # showed another count, a dose ticked on a stale page (0 of 3 here, 1 of 3 on the phone): that one says so.
        if shown != count and _another_pages_dose(plan, step_key, date, count, tap):
            raise Refused(rules.changed_message(task))
    elif not _completion_write_if_unchanged(plan, step_key, date, count, facts, tap):
        # Changed by another request between reading the count and writing it: say what it is now, unless that
        # request was this page's own (the same tap twice), as for a count already stored above.
        facts = facts_for_plan(plan, date - rules.WEEK_REACH, today)
        _problem, task = rules.tick_check(facts, step_key, date, count, today)
        if task is None or task.done != count or _another_pages_dose(plan, step_key, date, count, tap):
            raise Refused(_problem or rules.changed_message(task))
    if shown is None or task.done != count:  # written: the facts returned hold the new count
        facts.done.pop((step_key, date), None)
        if count:
            facts.done[(step_key, date)] = count
    if count:
        plan_note_activity(plan, date)
    plan_note_past_change(plan, date, today)
    return facts


def _completion_write(plan, step_key, date, count):
    if count == 0:
        Completion.objects.filter(plan=plan, step_key=step_key, date=date).delete()
    else:
        # One statement, whoever else is ticking at the same moment: insert, or update the existing row.
        Completion.objects.bulk_create(
            [Completion(plan=plan, step_key=step_key, date=date, count=count)],
            update_conflicts=True,
            unique_fields=["plan", "step_key", "date"],
            update_fields=["count", "updated_at"],
        )


def _another_pages_dose(plan, step_key, date, count, tap):
    """Whether ``count`` doses, stored already, were written by another page render than ``tap``: a dose done on this
    device that the other one counted first would be lost unseen. None done is no dose to lose (an undo asked twice
    is so). One query, only for a count already stored."""
    if not count:
        return False
    stored = Completion.objects.filter(plan=plan, step_key=step_key, date=date).values_list("tap", flat=True).first()
    return not tap or stored != tap


def _completion_write_if_unchanged(plan, step_key, date, count, facts, tap=""):
    """Write ``count`` only if the stored count is still the one ``facts`` read, in the one statement that writes
    it; whether it was written. Two requests that read the same count cannot both change it."""
    stored = facts.count(step_key, date)
    row = Completion.objects.filter(plan=plan, step_key=step_key, date=date)
    if stored == 0:
        # No row was there. Should one have been added since, it is kept: a row is only ever written with a count
        # some page asked for, and one a page asked for on the last count it knew is not overwritten. Reported as
        # written either way (the rare race leaves the page showing its own count until the next load): from 0
        # every page asks for 1, so the row holds what this tap asked for in all but a three-device race.
        Completion.objects.bulk_create(
            [Completion(plan=plan, step_key=step_key, date=date, count=count, tap=tap)], ignore_conflicts=True
        )
        return True
    if count == 0:
        return row.filter(count=stored).delete()[0] > 0
    return row.filter(count=stored).update(count=count, tap=tap, updated_at=timezone.now()) > 0


@transaction.atomic
def day_excuse(*, plan, date, today, reason=""):
    """Mark a day the patient could not follow the plan (e.g. ill): it no longer counts for or against them."""
    if not rules.is_editable(date, today):
        raise Refused("You can mark today or the two days before as a day off.")
    reason = reason[:200]
    day, created = ExcusedDay.objects.get_or_create(plan=plan, date=date, defaults={"reason": reason})
    # Sent again from a second tab with other words: the latest are the patient's, unless a pause wrote the day.
    if not created and reason and not day.on_hold and day.reason != reason:
        day.reason = reason
        day.save(update_fields=["reason"])
    # Not activity (DESIGN.md: inactive means no tick and no check-in): a patient too ill to follow the plan for
    # days on end is one the clinic should call.
    plan_note_past_change(plan, date, today)


@transaction.atomic
def day_unexcuse(*, plan, date, today):
    if not rules.is_editable(date, today):
        raise Refused("That day is too far back to change.")
    if ExcusedDay.objects.filter(plan=plan, date=date, on_hold=True).exists():
        raise Refused("Your clinician had your plan on hold that day, so it stays out of your progress.")
    ExcusedDay.objects.filter(plan=plan, date=date).delete()
    plan_note_past_change(plan, date, today)


@transaction.atomic
def plan_enrol_many(*, enrolments, protocol, clinician=None):
    """Start plans on ``protocol`` for many patients at once (the front desk's group intake).

    ``enrolments`` is a list of (patient, race date). It does what ``plan_enrol`` does, in a few bulk queries
    rather than two per patient, copying the same STEP_FIELDS of each step. Returns the plans.
    """
    steps = list(protocol.steps.all())
    plans = RecoveryPlan.objects.bulk_create(
        [
            RecoveryPlan(patient=patient, protocol=protocol, race_date=race_date, clinician=clinician)
            for patient, race_date in enrolments
        ],
        batch_size=500,
    )
    PlanStep.objects.bulk_create(
        (plan_step_copy(step, plan=plan) for plan in plans for step in steps),
        batch_size=1000,
    )
    return plans

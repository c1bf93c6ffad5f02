"""What clinicians do to one patient's plan: tailor steps from a date, sign off running, pause, discharge,
re-enrol, and acknowledge alerts. Each write is atomic; none rewrites a day that has already happened.
"""

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils import timezone

from recovery.models import Alert, Completion, ExcusedDay, Gate, PlanStep, RecoveryPlan
from recovery.services import Refused, plan_enrol, plan_note_past_change

CHANGEABLE_FIELDS = (
    "label", "instruction", "first_day", "last_day", "doses_per_day", "times_per_week", "gate_pain_max",
)  # fmt: skip


def tailoring_problem(plan):
    """Why none of ``plan``'s steps may be changed, or None: a discharged plan's steps are its record."""
    if plan.status == RecoveryPlan.Status.COMPLETED:
        return "This plan is complete (discharged), so its steps stay as they were. Re-enrol to start a new one."
    return None


def _check_tailoring(plan, from_date, today):
    """Why a step of ``plan`` may not be changed from ``from_date``: ``tailoring_problem``, and the days already
    done keep the rules they were done under."""
    if problem := tailoring_problem(plan):
        raise Refused(problem)
    if from_date < today:
        raise Refused("Changes start today or later, so the days already done keep the rules they were done under.")


def _version_on(plan, key, date):
    """The version of a step in force on ``date``, locked against a colleague changing it at the same moment."""
    return (
        PlanStep.objects.select_for_update()
        .filter(plan=plan, key=key)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=date))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=date))
        .first()
    )


def _mark_tailored(plan, key):
    # The key is now this patient's own: an update from the protocol (recovery/protocol_updates.py) leaves it alone.
    PlanStep.objects.filter(plan=plan, key=key).update(tailored=True)


def _check_pain_gated(step):
    # A pain limit is what keeps a loading exercise closed while the hip hurts (rules.gate_lock); a step that opens
    # on a clinician's sign-off, or is always open, has none to change. Adding that gate is "Add a step"'s to do.
    if step.gate == Gate.CLEARANCE:
        raise Refused(
            f"“{step.label}” opens with the return-to-running sign-off, not a pain score: it has no pain limit."
        )
    if step.gate != Gate.PAIN:
        raise Refused(f"“{step.label}” is always open, whatever the pain score: it has no pain limit.")


def _check_pain_limit_change(plan, current, changes, from_date, today):
    """A new pain limit must not contradict the step's own words, nor lock a session the patient did today."""
    _check_pain_gated(current)
    said = re.search(rf"\b{current.gate_pain_max}\s*(?:/|out of)\s*10\b", current.instruction or "")
    if said and "instruction" not in changes:
        raise Refused(
            f"“{current.label}” tells the patient “{said[0]}”: give it new words for the new limit too, or they read "
            "two limits."
        )
    if from_date == today and Completion.objects.filter(plan=plan, step_key=current.key, date=today).exists():
        raise Refused(
            f"The patient has done “{current.label}” today: start the new limit tomorrow, so today's session still "
            "counts."
        )


def _validated(step):
    try:
        step.full_clean(exclude=["plan", "tip"])
    except ValidationError as error:
        raise Refused(" ".join(error.messages)) from None
    return step


def _check_last_day(plan, last_day, from_date, advice=""):
    day = plan.day_number(from_date)
    if last_day is not None and last_day < day:
        raise Refused(
            f"Its last day (day {last_day}) is before {from_date:%d %b %Y}, day {day} of the plan: the patient "
            f"would never see it.{advice}"
        )


@transaction.atomic
def plan_step_change(*, plan, key, from_date, today, **changes):
    """Change a step from ``from_date`` on: the version before it keeps the days already done, and the versions
    already set to start later take the change too (a step ended from today must not come back tomorrow)."""
    _check_tailoring(plan, from_date, today)
    unknown = set(changes) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))}")
    current = _version_on(plan, key, from_date)
    if current is None:
        raise Refused("That step is not on the plan on that date.")
    if "last_day" in changes:
        _check_last_day(plan, changes["last_day"], from_date, " To take it off the plan, stop it from this date.")
    else:  # a step already over: a change of its doses or words would never reach the patient
        _check_last_day(plan, current.last_day, from_date, " Give it a later last day to bring it back.")
    if "gate_pain_max" in changes:
        _check_pain_limit_change(plan, current, changes, from_date, today)
    later = list(PlanStep.objects.select_for_update().filter(plan=plan, key=key, valid_from__gt=from_date))
    if current.valid_from == from_date:
        changed = current
    else:
        changed = PlanStep.objects.get(pk=current.pk)
        changed.pk = None
        changed.valid_from = from_date
        current.valid_until = from_date
    for version in [changed, *later]:
        if "gate_pain_max" in changes:
            _check_pain_gated(version)
        for name, value in changes.items():
            setattr(version, name, value)
        _validated(version)
    if changed is not current:
        current.save(update_fields=["valid_until"])
    for version in [changed, *later]:
        version.save()
    _mark_tailored(plan, key)
    return changed


@transaction.atomic
def plan_step_stop(*, plan, key, from_date, today):
    """Take a step off the plan from ``from_date`` on; the days before keep it."""
    _check_tailoring(plan, from_date, today)
    current = _version_on(plan, key, from_date)
    if current is None:
        raise Refused("That step is not on the plan on that date.")
    PlanStep.objects.filter(plan=plan, key=key, valid_from__gt=from_date).delete()
    if current.valid_from is not None and current.valid_from >= from_date:
        current.delete()
    else:
        current.valid_until = from_date
        current.save(update_fields=["valid_until"])
    _mark_tailored(plan, key)


@transaction.atomic
def plan_step_add(*, plan, from_date, today, **fields):
    """Add a step (from the tip library) to this patient's plan, from ``from_date`` on."""
    _check_tailoring(plan, from_date, today)
    key = fields["key"]
    _check_last_day(plan, fields.get("last_day"), from_date)
    clash = PlanStep.objects.filter(plan=plan, key=key).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=from_date)
    )
    taken = f"The plan already has a step called “{key}” on that date. Choose another key."
    if clash.exists():
        raise Refused(taken)
    if "position" not in fields:
        last = plan.steps.order_by("-position").values_list("position", flat=True).first() or 0
        fields["position"] = last + 1
    step = PlanStep(plan=plan, valid_from=from_date, tailored=True, **fields)
    try:
        with transaction.atomic():
            _validated(step).save()
    except IntegrityError:  # a colleague (or a protocol update) added it after the check above
        raise Refused(taken) from None
    _mark_tailored(plan, key)  # the key's earlier versions too, if the plan had it once
    return step


@transaction.atomic
def running_opens_on(plan, today):
    """The day a sign-off given ``today`` opens the steps gated on it: today, or their first day if that is later
    (the sign-off opens the gate; the plan's days still decide)."""
    first_day = plan.steps.filter(gate=Gate.CLEARANCE).aggregate(first=Min("first_day"))["first"]
    if first_day is None:
        return today
    return max(today, plan.race_date + datetime.timedelta(days=first_day))


def plan_clear_to_run(*, plan, by, today):
    """Record the return-to-running sign-off: it opens the steps gated on clearance from today. Returns the day
    they open (``running_opens_on``)."""
    RecoveryPlan.objects.filter(pk=plan.pk).update(cleared_to_run_on=today, cleared_by=by)
    plan.refresh_from_db()
    return running_opens_on(plan, today)


@transaction.atomic
def plan_withdraw_clearance(*, plan, today):
    """Withdraw the sign-off: the steps gated on clearance close again, on the days since it too."""
    if plan.cleared_to_run_on is not None:
        plan_note_past_change(plan, plan.cleared_to_run_on, today)
    RecoveryPlan.objects.filter(pk=plan.pk).update(cleared_to_run_on=None, cleared_by=None)
    plan.refresh_from_db()


STATUS_MOVES = {
    RecoveryPlan.Status.PAUSED: {RecoveryPlan.Status.ACTIVE},
    RecoveryPlan.Status.ACTIVE: {RecoveryPlan.Status.PAUSED},
    RecoveryPlan.Status.COMPLETED: {RecoveryPlan.Status.ACTIVE, RecoveryPlan.Status.PAUSED},
}


PAUSE_REASON = "Plan paused by the clinic"


@transaction.atomic
def plan_set_status(*, plan, status, today):
    """Pause, resume or complete (discharge) a plan. A completed plan stays completed: re-enrol instead.

    A pause holds the plan from ``today``; when it ends, its days up to yesterday become days off (reason
    ``PAUSE_REASON``), so adherence and the streak leave them out for good. Today counts again from the resume.
    """
    allowed_from = STATUS_MOVES[status]
    # Locked: two clinicians resuming at once must not both write the pause's days off.
    current = RecoveryPlan.objects.select_for_update().filter(pk=plan.pk, status__in=allowed_from).first()
    if current is None:
        plan.refresh_from_db()  # another clinician may have just changed it: say what it is now
        raise Refused(f"This plan is {plan.get_status_display().lower()}, so it cannot be made {status}.")
    _pause_end(current, today)
    paused_on = today if status == RecoveryPlan.Status.PAUSED else None
    # Silence counts from a resume (the days on hold were not the patient's), but a pause undone the day it began
    # held no day: it must not hide a patient quiet for a week from the inactive list.
    held_a_day = current.paused_on is not None and current.paused_on < today
    resumed_on = today if held_a_day else current.resumed_on
    RecoveryPlan.objects.filter(pk=plan.pk).update(status=status, paused_on=paused_on, resumed_on=resumed_on)
    plan.refresh_from_db()


def _pause_end(plan, today):
    """The paused days before ``today`` become days off; days the patient had already taken off stay theirs."""
    if plan.paused_on is None:
        return
    dates = [plan.paused_on + datetime.timedelta(days=n) for n in range((today - plan.paused_on).days)]
    ExcusedDay.objects.bulk_create(
        [ExcusedDay(plan=plan, date=date, reason=PAUSE_REASON, on_hold=True) for date in dates], ignore_conflicts=True
    )


@transaction.atomic
def plan_reenrol(*, plan, race_date, today, protocol=None, clinician=None):
    """Discharge this plan (if still open) and start a new one, e.g. after another race.

    Refused when the patient already has another open plan: a second click on "Start the new plan", or re-enrolling
    from an older, completed plan. The patient's plans are locked, so two clinicians at once cannot both start one.
    """
    plans = {other.pk: other for other in RecoveryPlan.objects.select_for_update().filter(patient_id=plan.patient_id)}
    if any(other.status in RecoveryPlan.OPEN_STATUSES and pk != plan.pk for pk, other in plans.items()):
        raise Refused(f"{plan.patient} already has an open plan. Re-enrol from that plan if they need a new one.")
    current = plans.get(plan.pk)
    if current is not None and current.status != RecoveryPlan.Status.COMPLETED:
        _pause_end(current, today)
        RecoveryPlan.objects.filter(pk=plan.pk).update(status=RecoveryPlan.Status.COMPLETED, paused_on=None)
    return plan_enrol(
        patient=plan.patient,
        protocol=protocol or plan.protocol,
        race_date=race_date,
        clinician=clinician or plan.clinician,
    )


def alert_acknowledge(*, alert_ids, by, note="", seen_at=None):
    """Acknowledge open alerts. Two clinicians at once: the first acknowledgement is kept, the second is a no-op.
    ``seen_at``: when the clinician's page showed them; an alert the patient changed since (a warning sign added
    while the note was being typed) is left open, for the clinician to read again.

    Returns how many alerts this call acknowledged.
    """
    alerts = Alert.objects.filter(pk__in=alert_ids, acknowledged_at__isnull=True)
    if seen_at is not None:
        alerts = alerts.filter(updated_at__lte=seen_at)
    return alerts.update(acknowledged_at=timezone.now(), acknowledged_by=by, acknowledgement_note=note.strip())


@transaction.atomic
def alert_note_add(*, alert_id, by, note):
    """Add a note to an alert acknowledged already (a colleague's acknowledgement saved while this one was being
    typed: "booked an appointment" must not be lost). Returns False when there is nothing to add it to, or no room.
    The alert's ``updated_at`` stays: it dates what the patient reported, which the note does not change."""
    note = note.strip()
    alert = Alert.objects.select_for_update().filter(pk=alert_id, acknowledged_at__isnull=False).first()
    if not note or alert is None:
        return False
    added = f"Added by {by.get_full_name() or by} at {timezone.localtime():%d %b %H:%M}: {note}"
    text = f"{alert.acknowledgement_note}\n\n{added}" if alert.acknowledgement_note else added
    if len(text) > Alert._meta.get_field("acknowledgement_note").max_length:
        return False
    Alert.objects.filter(pk=alert_id).update(acknowledgement_note=text)
    return True

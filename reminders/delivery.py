"""Queueing and sending reminders: never twice for the same patient, day and slot.

1. The sweep (``reminders_queue_due``, every minute) finds the slots that are due. For each it creates the
   ``ReminderDelivery`` row and enqueues the send task **in one transaction**: the row's unique constraint
   (patient, day, slot) lets only one sweep win, and with the database task backend the task row commits with it,
   so there is never a delivery without its task nor a task without its delivery.
2. The worker (``reminder_send``) first *claims* the delivery with one conditional UPDATE, committed before
   anything is sent: only one worker can win it. It then decides again whether the reminder is still wanted
   (turned off since? something logged before the evening nudge?), sends it through the patient's sender, and
   records it as sent.
3. A worker killed between its claim and its record leaves the delivery claimed and its task "running". The
   sweep re-queues such a task once its worker is gone (jobs/requeue.py, after ``TASK_STALE_AFTER``); by then the
   claim is older than ``CLAIM_LEASE``, so the new run takes it over and sends. Delivery is therefore at least
   once: the one duplicate left possible is a crash after the mail server accepted the message and before the
   "sent" record was written (docs/DEPLOY.md).
"""

import datetime
import functools
import logging

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from recovery import rules
from recovery.facts import facts_for_plan, facts_for_plans
from recovery.models import RecoveryPlan
from reminders.models import ReminderDelivery
from reminders.senders import Reminder, sender_for
from reminders.services import reminder_settings_for
from reminders.slots import ICE_SLOTS, Slot, any_time_due, candidate_dates, due_slots
from reminders.tokens import unsubscribe_url

logger = logging.getLogger(__name__)

# The plan step whose doses get one reminder each (the default protocol's key for "Ice the hip").
ICE_STEP_KEY = "ice"
# A claim older than this belongs to a worker that died mid-send (a real send takes seconds; SMTP gives up
# after 10). Shorter than jobs.requeue.TASK_STALE_AFTER, so a re-queued task can always take the claim over.
CLAIM_LEASE = datetime.timedelta(minutes=5)
# After this, a reminder is no use any more ("ice now" in the evening): it is recorded as not sent.
SEND_DEADLINE = datetime.timedelta(hours=3)
# Delivery records are kept this long (they show the clinic what was sent and are in the patient's data download),
# then deleted by the sweep: one row per patient, slot and day would otherwise grow by 50,000 rows a day at 10,000
# patients. A batch per sweep keeps each sweep short even on a first run over years of records.
KEEP_DELIVERIES = datetime.timedelta(days=90)
PRUNE_BATCH = 5_000
Status = ReminderDelivery.Status


class Kind:
    """What a reminder says (reminders/email/reminder*.txt)."""

    ICE = "ice"  # an ice session is due
    DAILY = "daily"  # today's plan is ready
    EVENING = "evening"  # nothing logged today yet
    CHECK_IN = "check_in"  # the latest check-in said stop: please check in again, and call us


def _eligible_plans():
    """Active plans of patients who can log in and have not turned their reminders off."""
    return (
        RecoveryPlan.objects.active()
        .filter(patient__is_active=True)
        .exclude(patient__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(patient__reminder_settings__enabled=False)
        .select_related("patient", "patient__reminder_settings")
    )


def _ice_doses_on(facts, date):
    """The day's ice doses, 0 on a day without ice, None on a day the plan has nothing (before race day)."""
    steps = rules.steps_on(facts, date)
    if not steps:
        return None
    return next((step.doses_per_day for step in steps if step.key == ICE_STEP_KEY and not step.is_weekly), 0)


def _logged_in_facts(facts, date):
    return date in facts.pain_by_date or date in facts.excused or any(day == date for _key, day in facts.done)


def reminders_queue_due(*, now):
    """Queue every reminder due at ``now``; return how many were queued. Safe to run twice at once."""
    tz = timezone.get_default_timezone()
    candidates = []
    for plan in _eligible_plans():
        times = reminder_settings_for(plan.patient).times()
        if any_time_due(times, now=now, tz=tz):
            candidates.append((plan, times))
    if not candidates:
        return 0
    dates = candidate_dates(now, tz)
    all_facts = facts_for_plans([plan for plan, _times in candidates], dates[0], dates[-1])
    queued_already = set(
        ReminderDelivery.objects.filter(
            user_id__in=[plan.patient_id for plan, _times in candidates], date__in=dates
        ).values_list("user_id", "date", "slot")
    )
    queued = 0
    for plan, times in candidates:
        facts = all_facts[plan.pk]
        for due in due_slots(times, now=now, tz=tz, ice_doses_on=functools.partial(_ice_doses_on, facts)):
            if (plan.patient_id, due.date, due.slot) in queued_already:
                continue
            if due.slot == Slot.EVENING and _logged_in_facts(facts, due.date):
                continue
            if due.date in facts.excused:
                continue  # a day off (or on hold): no ice reminders for a patient in bed with flu
            queued += _queue(plan.patient_id, due)
    return queued


def deliveries_prune(*, now):
    """Delete up to ``PRUNE_BATCH`` delivery records of days more than ``KEEP_DELIVERIES`` before ``now``'s day in
    the clinic; return how many. A task still queued for one finds nothing to claim and does nothing."""
    cutoff = timezone.localdate(now) - KEEP_DELIVERIES
    oldest = ReminderDelivery.objects.filter(date__lt=cutoff).order_by("date").values_list("pk", flat=True)
    deleted, _ = ReminderDelivery.objects.filter(pk__in=list(oldest[:PRUNE_BATCH])).delete()
    return deleted


def _queue(user_id, due):
    try:
        with transaction.atomic():
            delivery = ReminderDelivery.objects.create(user_id=user_id, date=due.date, slot=due.slot, due_at=due.at)
            reminder_send.enqueue(delivery.pk)
    except IntegrityError:
        # Another sweep queued this one a moment ago: the unique (patient, day, slot) row is theirs.
        return 0
    return 1


@task(takes_context=True)
def reminder_send(context, delivery_id):
    """Send one reminder (its delivery's id: task arguments are plain JSON). Returns what happened."""
    worker_ids = context.task_result.worker_ids
    return reminder_deliver(delivery_id=delivery_id, worker_id=worker_ids[-1] if worker_ids else "")


def reminder_deliver(*, delivery_id, worker_id):
    now = timezone.now()
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    claimed = (
        ReminderDelivery.objects.filter(claimable, pk=delivery_id, status=Status.QUEUED)
        .update(claimed_at=now, claimed_by=worker_id[:64], attempts=F("attempts") + 1)
    )  # fmt: skip
    if not claimed:
        # Sent, not needed, deleted, or being sent right now by another worker.
        return "not claimed"
    delivery = ReminderDelivery.objects.select_related("user").get(pk=delivery_id)
    plan = RecoveryPlan.objects.active().filter(patient=delivery.user).first()
    # The day as Today shows it: its ticks, day off, and the latest check-in on or before it (a stop may stand).
    facts = facts_for_plan(plan, delivery.date, delivery.date) if plan is not None else None
    reason = _reason_not_to_send(delivery, plan, facts, now)
    if reason:
        _finish(delivery, status=Status.SKIPPED, note=reason)
        return "skipped"
    sender = sender_for(delivery.user)
    try:
        sender.send(reminder_for(delivery, kind=reminder_kind(delivery.slot, facts, delivery.date)))
    except Exception:
        logger.exception("Could not send the %s reminder %s.", sender.channel, delivery.pk)
        _finish(delivery, status=Status.FAILED, channel=sender.channel, note="The message could not be sent.")
        # Raised again so that the worker records the task as failed.
        raise
    _finish(delivery, status=Status.SENT, channel=sender.channel, sent_at=timezone.now())
    return "sent"


def _finish(delivery, **changes):
    ReminderDelivery.objects.filter(pk=delivery.pk, status=Status.QUEUED).update(**changes)


def reminder_kind(slot, facts, date):
    """What the reminder of ``slot`` on ``date`` says. While the stop of the latest check-in stands (a warning sign,
    or pain at the stop level: ``PlanFacts.stop_on``, the rule behind Today's banner), the daily reminder and the
    evening nudge ask the patient to check in again and call us, never "your plan is ready". Ice reminders go on:
    the ice step has no gate, so a stop leaves it open on Today too (``_reason_not_to_send`` checks its lock)."""
    if slot in ICE_SLOTS:
        return Kind.ICE
    if facts.stop_on(date) is not None:
        return Kind.CHECK_IN
    return Kind.EVENING if slot == Slot.EVENING else Kind.DAILY


def _ice_step_locked(facts, date):
    """Whether Today shows the day's ice step locked (``rules.step_lock``): a clinician may have gated it."""
    steps = rules.steps_on(facts, date)
    ice = next((step for step in steps if step.key == ICE_STEP_KEY and not step.is_weekly), None)
    return ice is not None and rules.step_lock(ice, facts, date) is not None


def _reason_not_to_send(delivery, plan, facts, now):
    """Why the reminder is no longer wanted, in plain words, or "" to send it. Asked again at sending time, since
    the patient may have turned reminders off or logged their day after it was queued."""
    user = delivery.user
    if not user.is_active or not user.email:
        return "The account is switched off."
    choice = reminder_settings_for(user)
    if not choice.enabled:
        return "Reminders were turned off."
    if plan is None:
        return "There is no active plan."
    if delivery.date in facts.excused:
        return "The day was taken off."
    if delivery.slot == Slot.EVENING:
        if not choice.evening_nudge:
            return "The evening nudge was turned off."
        if _logged_in_facts(facts, delivery.date):
            return "Something was logged that day."
    stopped_that_day = facts.stop_on(delivery.date) and facts.latest_check_in_date(delivery.date) == delivery.date
    if delivery.slot == Slot.DAILY and stopped_that_day:
        # Not "Please do today's check-in" to someone whose check-in of that day has just said stop and call us.
        return "That day's check-in asked the patient to stop and call the clinic."
    if delivery.slot in ICE_SLOTS and _ice_step_locked(facts, delivery.date):
        return "The ice step was on hold that day."
    if now > delivery.due_at + SEND_DEADLINE:
        return "Too late to be of use."
    return ""


def reminder_for(delivery, *, kind):
    user = delivery.user
    base = settings.SITE_URL.rstrip("/")
    context = {
        "name": user.first_name or "there",
        "kind": kind,
        "ice_dose": ICE_SLOTS.index(delivery.slot) + 1 if delivery.slot in ICE_SLOTS else None,
        "today_link": base + reverse("recovery:today"),
        "check_in_link": base + reverse("recovery:check_in"),
        "settings_link": base + reverse("reminders:settings"),
        "unsubscribe_url": unsubscribe_url(user),
    }
    return Reminder(
        name=str(user),
        email=user.email,
        phone=user.phone,
        subject=render_to_string("reminders/email/reminder_subject.txt", context).strip(),
        body=render_to_string("reminders/email/reminder.txt", context),
        short=render_to_string("reminders/email/reminder_short.txt", context).strip(),
        unsubscribe_url=context["unsubscribe_url"],
    )

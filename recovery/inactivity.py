"""The "inactive" alert, raised by the clinic's clock (``manage.py sweep``) so no one has to go looking.

Inactive means what it means everywhere (DESIGN.md, ``recovery.summaries.inactive_q``): an active plan with no tick
and no check-in for the safety thresholds' ``inactive_after_days``, counted from ``last_activity_on``, or from
the plan's start when there was never any activity, or from the end of a pause if later (days on hold ask nothing
of the patient): ``recovery.models.plans.quiet_since_expression``, the one definition.

One alert per spell of silence: the alert of the day it began (unique per plan, kind and date, so two sweeps at
once make one), and no other until the patient has logged something again and then falls silent anew. A
clinician who acknowledged it is not asked again every morning about the same silence. The clinic hears of the
morning's new ones in one e-mail (``recovery.notifications.inactive_alerts_notify``: the duty address all of them,
each clinician their own patients), which holds no health details. A patient
who never set up their account is silent for that reason, and the alert says so (the call is still worth making).
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.frontdesk.invitations import invitation_expires_on
from recovery.models import Alert, ExcusedDay, RecoveryPlan, SafetyThresholds
from recovery.notifications import inactive_alerts_notify
from recovery.safety import Severity, patients_words
from recovery.summaries import inactive_q


def _not_set_up_reason(patient, today):
    """A patient who never chose a password cannot tick or check in: the call is about the lost invitation, not the
    hip, and the clinician needs to know that before dialling."""
    if patient.invited_at is None:
        return "Has not set up their account yet (no invitation was sent). Ask reception to send one."
    invited = timezone.localdate(patient.invited_at)
    expires = invitation_expires_on(patient.invited_at)
    if patient.invitation_failed_at is not None:
        state = "the invitation e-mail could not be sent"
    elif today > expires:
        state = f"the invitation's link expired on {expires:%-d %b %Y}"
    else:
        state = f"the invitation's link works until {expires:%-d %b %Y}"
    return (
        f"Has not set up their account yet (invited on {invited:%-d %b %Y}; {state}), so they cannot tick or check in."
        " Ask reception to send a new invitation."
    )


def _reason(plan, days, days_off, *, today):
    if not plan.patient.is_activated:
        return _not_set_up_reason(plan.patient, today)
    since = plan.quiet_since
    if plan.quiet_since_resume:
        when = f"the plan was resumed on {since:%-d %b %Y}"
    elif plan.last_activity_on is None:
        when = f"the plan started on {since:%-d %b %Y}"
    else:
        when = f"{since:%-d %b %Y}"
    reason = f"Nothing ticked and no check-in since {when} ({days} days or more)."
    if days_off:
        # A day off is no activity, but the patient's words may be why ("fever, feel awful"): the call starts there.
        said = "; ".join(
            f"{date:%-d %b} “{patients_words(words)}”" if words else f"{date:%-d %b} (no reason given)"
            for date, words in days_off
        )
        reason += f" Days off marked meanwhile: {said}."
    return reason


def inactive_alerts_raise(*, today):
    """Raise the inactive alerts due ``today``; return how many were new."""
    thresholds = SafetyThresholds.current()
    plans = list(
        RecoveryPlan.objects.filter(inactive_q(today, thresholds)).with_quiet_since().select_related("patient")
    )
    if not plans:
        return 0
    latest_alert = dict(
        Alert.objects.filter(plan__in=plans, kind=Alert.Kind.INACTIVE)
        .values("plan_id")
        .annotate(latest=Max("date"))
        .values_list("plan_id", "latest")
    )
    days_off = {}
    for plan_id, date, words in (
        ExcusedDay.objects.filter(plan__in=plans, on_hold=False)
        .order_by("date")
        .values_list("plan_id", "date", "reason")
    ):
        days_off.setdefault(plan_id, []).append((date, words))
    raised = []
    for plan in plans:
        latest = latest_alert.get(plan.pk)
        # Already alerted for this spell: an inactive alert dated after the silence began.
        if latest is not None and latest > plan.quiet_since:
            continue
        with transaction.atomic():
            alert, created = Alert.objects.get_or_create(
                plan=plan,
                kind=Alert.Kind.INACTIVE,
                date=today,
                defaults={
                    "severity": Severity.WATCH,
                    "reason": _reason(
                        plan,
                        thresholds.inactive_after_days,
                        [(date, words) for date, words in days_off.get(plan.pk, []) if date >= plan.quiet_since],
                        today=today,
                    ),
                },
            )
            if created:
                raised.append(alert)
    inactive_alerts_notify(raised)  # one e-mail for the morning's, not one per quiet patient
    return len(raised)

"""Writes of the daily check-in and of the alerts it raises: small atomic functions named <thing>_<action>.

The decisions (traffic light, stop screen, which alerts) are made by ``recovery.safety`` over plain data; this
module loads that data, stores the outcome, and has the clinic told of each new alert after the commit.

Editing the day's check-in revisits the day's alerts, one row per (plan, kind, date):
- an alert the edit still raises is updated in place: its new cause first, then what it had said (a warning sign
  that sent the patient to A&E stays on record whatever the check-in says later); the clinic is e-mailed again
  only when the edit makes it worse (a new warning sign, a higher score);
- an alert a clinician has already acknowledged is re-opened, and the clinic e-mailed again, only when the edit
  makes it worse or brings its cause back after a withdrawal (``safety.changed_alert_is_news``, the same rule as
  for an open alert's e-mail): its reason keeps who had acknowledged it, when, and with what note. An edit that
  changes its cause otherwise (pain 9 edited to 7) brings its reason up to date and leaves it acknowledged;
- an alert whose cause the edit takes away is kept, open, with its reason rewritten to say it was withdrawn and
  what it had said: never silently dropped, since the clinician may already be acting on it;
- an alert raised for the first time that day is created, and the clinic is e-mailed.
"""

import dataclasses
import datetime
import re

from django.db import transaction
from django.utils import timezone

from recovery import safety
from recovery.models import Alert, CheckIn, Completion, SafetyThresholds
from recovery.notifications import NEW, REOPENED, WORSE, alerts_notify
from recovery.rules import CHECK_IN_STEP_KEY, is_editable
from recovery.services import Refused, completion_set, plan_note_activity

ANSWER_FIELDS = ["pain", "numbness", "swelling", "note", *CheckIn.RED_FLAG_FIELDS]


def previous_scores(plan, date):
    """The pain scores recorded in the days before ``date`` that the rising-pain rule averages."""
    first = date - datetime.timedelta(days=safety.RISE_WINDOW_DAYS)
    last = date - datetime.timedelta(days=1)
    return list(CheckIn.objects.filter(plan=plan, date__range=(first, last)).values_list("pain", flat=True))


def _alert_raise(*, plan, date, decision, worse=False):
    """Raise the day's alert of the decision's kind, or bring it up to date. Returns (alert, what the clinic is to
    be told of it, or None): a new alert, or one the change made news (``safety.changed_alert_is_news``: ``worse``,
    or its cause back after a withdrawal), re-opened if it was acknowledged."""
    alert, created = Alert.objects.select_for_update().get_or_create(
        plan=plan, kind=decision.kind, date=date, defaults={"severity": decision.severity, "reason": decision.reason}
    )
    if created:
        return alert, NEW
    if _cause(alert.reason) == _cause(decision.reason) and alert.severity == decision.severity:
        return alert, None  # the same cause again (a second save, a second report): nothing new to tell
    news = safety.changed_alert_is_news(worse=worse, withdrawn=safety.is_withdrawn(alert.reason))
    reopened = news and alert.acknowledged_at is not None
    if reopened:
        alert.reason = safety.reopened_reason(
            decision.reason,
            alert.reason,
            when=timezone.localtime(),
            acknowledged_by=alert.acknowledged_by or "a clinician",  # an account since removed
            acknowledged_at=timezone.localtime(alert.acknowledged_at),
            note=alert.acknowledgement_note,
        )
        alert.acknowledged_at, alert.acknowledged_by, alert.acknowledgement_note = None, None, ""
    else:
        alert.reason = safety.changed_reason(decision.reason, alert.reason, when=timezone.localtime())
    alert.severity = decision.severity
    alert.save()
    return alert, REOPENED if reopened else WORSE if news else None


def _alerts_raise(*, plan, date, decisions, worse=()):
    """Raise (or bring up to date) the day's alerts of ``decisions``, and tell the clinic of those it is to hear of
    in one e-mail; return them."""
    told = []
    for decision in decisions:
        alert, change = _alert_raise(plan=plan, date=date, decision=decision, worse=decision.kind in worse)
        if change:
            told.append((alert, change))
    alerts_notify(told)
    return [alert for alert, _change in told]


def _alerts_set(*, plan, date, kinds, decisions, worse=()):
    """Bring the day's alerts of ``kinds`` in line with ``decisions`` (``worse``: the kinds the patient's edit made
    worse); return those the clinic is told of now, in one e-mail."""
    new = _alerts_raise(plan=plan, date=date, decisions=decisions, worse=worse)
    raised = {decision.kind for decision in decisions}
    now = timezone.localtime()
    for alert in Alert.objects.filter(plan=plan, date=date, kind__in=set(kinds) - raised):
        if not safety.is_withdrawn(alert.reason):
            alert.reason = safety.withdrawn_reason(alert.reason, now)
            alert.save(update_fields=["reason", "updated_at"])
    return new


def _step_tick(plan, step_key, date, today):
    """Tick a plan step for ``date`` unless it is ticked already; skip it when the plan has no such step that
    day (or the rules refuse the tick, e.g. a paused plan): the safety report matters, the tick does not."""
    if Completion.objects.filter(plan=plan, step_key=step_key, date=date).exists():
        return
    if not plan.steps.filter(key=step_key).exists():
        return
    try:
        completion_set(plan=plan, step_key=step_key, date=date, count=1, today=today)
    except Refused:
        pass


class DayOver(Refused):
    """A check-in sent for a day that is over, from a page left open past midnight. It is not saved, for that day or
    silently for today: a check-in tells how the hip feels on the day itself, and the page said which day."""

    def __init__(self, date):
        super().__init__("That day is over: its check-in can no longer be changed.")
        self.date = date


def _alert_inputs(check_in):
    """What ``safety.worse_than_before`` compares of a check-in."""
    return {"pain": check_in.pain, "red_flags": check_in.red_flags(), "numbness": check_in.numbness}


def _decisions(check_in):
    """The alerts a check-in's answers raise (``safety.check_in_alerts``), saved or not."""
    return safety.check_in_alerts(
        pain=check_in.pain,
        red_flags=check_in.red_flag_words(),
        advice=safety.advice_given(check_in.red_flags()),
        numbness=check_in.numbness,
        previous_scores=previous_scores(check_in.plan, check_in.date),
        thresholds=SafetyThresholds.current(),
    )


@transaction.atomic
def check_in_save(*, plan, date, data, today):
    """Save (or edit) the day's check-in, update the day's alerts and tick the plan's check-in step.

    Only today's check-in can be saved: ``date`` must be ``today`` (``DayOver`` when it has passed). ``data`` holds
    the answers (``ANSWER_FIELDS``; questions left out count as no). Returns (check_in, the alerts the clinic is told
    of: new ones, acknowledged ones the edit re-opened, and open ones it made worse).
    """
    if date < today:
        raise DayOver(date)
    if date != today:
        raise Refused("You can only fill in today's check-in.")
    pain = data.get("pain")
    if not isinstance(pain, int) or isinstance(pain, bool) or not 0 <= pain <= 10:
        raise Refused("Choose how much your hip hurts, from 0 to 10.")
    answers = {name: data.get(name, CheckIn._meta.get_field(name).get_default()) for name in ANSWER_FIELDS}
    before = CheckIn.objects.select_for_update().filter(plan=plan, date=date).first()
    before = before and _alert_inputs(before)
    check_in, _ = CheckIn.objects.update_or_create(plan=plan, date=date, defaults=answers)
    worse = safety.worse_than_before(before, _alert_inputs(check_in))
    new = _alerts_set(plan=plan, date=date, kinds=safety.CHECK_IN_KINDS, decisions=_decisions(check_in), worse=worse)
    _step_tick(plan, CHECK_IN_STEP_KEY, date, today)
    plan_note_activity(plan, date)
    return check_in, new


@transaction.atomic
def day_over_alerts_raise(*, answers, day):
    """The ``answers`` (``unsaved_check_in``, dated today) of a check-in sent for a ``day`` that is over
    (``DayOver``: a page opened before midnight) are not saved, but a warning sign or a high score in them is news
    about now, as a compression numbness report from such a page is: today's alerts are raised from them, never
    withdrawn. Returns the alerts the clinic is told of."""
    # Not a check-in the clinician can open: what it said that no alert says (the note) comes with the alert.
    note = f" Their note: “{safety.patients_words(answers.note)}”" if answers.note else ""
    sent = f" ({DAY_OVER_MARK}{day:%A %-d %b}; not saved as a check-in.{note})"
    decisions = [dataclasses.replace(decision, reason=decision.reason + sent) for decision in _decisions(answers)]
    # Worse than today's saved check-in, if there is one; an alert that only such pages raised has no answers kept
    # to weigh the new ones against, so any change of its cause is news.
    saved = CheckIn.objects.filter(plan=answers.plan, date=answers.date).first()
    worse = safety.worse_than_before(_alert_inputs(saved), _alert_inputs(answers)) if saved else safety.CHECK_IN_KINDS
    told = _alerts_raise(plan=answers.plan, date=answers.date, decisions=decisions, worse=worse)
    if told:
        plan_note_activity(answers.plan, answers.date)  # heard from this morning: not "quiet" at the 09:00 sweep
    return told


def unsaved_check_in(*, plan, data, today):
    """The answers of a form as a check-in that is not saved (to decide its alerts and its stop screen)."""
    return CheckIn(plan=plan, date=today, **{name: data[name] for name in ANSWER_FIELDS if name in data})


DAY_OVER_MARK = "Sent after midnight from a check-in page of "


def _cause(reason):
    """An alert's cause without the note that it came from a page of a day that was over: saved after all for
    today, the same answers are the same cause, not a change."""
    return re.sub(rf" \({DAY_OVER_MARK}.*\)$", "", safety.cause_of(reason), flags=re.S)


@transaction.atomic
def compression_numbness_report(*, plan, date, today):
    """The patient felt tingling or numbness under compression on ``date``: raise the day's alert.

    Returns (alert, whether the clinic is told of it now). For the days a patient may still tick, today and the two
    before; a report for a day no longer within reach (a page left open past midnight) is taken for today: it is
    news about now, and is never dropped.
    """
    if not is_editable(date, today):
        date = today
    decision = safety.compression_numbness_alert()
    alert = Alert.objects.select_for_update().filter(plan=plan, kind=decision.kind, date=date).first()
    if alert is not None and alert.acknowledged_at is None:
        return alert, False  # a second tap while the clinic has it open: nothing new
    if alert is not None:
        # After a clinician dealt with it ("call if it returns"), the numbness came back: news, re-opened.
        reported = f"{decision.reason} Reported again at {timezone.localtime():%H:%M}."
        decision = dataclasses.replace(decision, reason=reported)
    alert, change = _alert_raise(plan=plan, date=date, decision=decision, worse=True)  # back: news
    if change:
        alerts_notify([(alert, change)])
    return alert, change is not None

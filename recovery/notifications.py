"""The clinic hears of each new alert (and of an acknowledged one that the patient's later report re-opened): an
e-mail to the duty address and to the patient's clinician.

The mail leaves after the transaction commits, through Django's tasks framework (the database worker in
production), so a slow or failing mail server never loses an alert nor turns the patient's page into an error:
the alert is saved and shown whatever happens to the mail, and a failure is logged. A mail that fails is tried
again a few times over the next hour and a half (``ALERT_MAIL_RETRY_MINUTES``), unless a clinician acknowledges the
alert meanwhile: a mail server that is down for a while must not cost the clinic the news of a red flag.

The message names the patient and links to the alert in the admin. It holds no health details (no pain score,
no red flag, no note): e-mail travels and lingers where health data must not; the clinician reads them in the
admin after signing in.

The morning's inactive alerts come in a digest: one e-mail to the duty address, one to each clinician for their own
patients. Each leaves on its own, and only those that failed are tried again, on the same schedule.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from recovery.models import Alert

logger = logging.getLogger(__name__)

MAILER = "default"
# After a failed try, the next one comes this many minutes later; after the last, the alert waits in the admin's
# queue and on the workspace home (where it is anyway). Only with a task backend that can run a task later.
ALERT_MAIL_RETRY_MINUTES = (1, 5, 15, 60)


NEW, REOPENED, WORSE = "new", "reopened", "worse"


def alerts_notify(changes):
    """Tell the clinic in one e-mail about the alerts one save of one patient raised or changed: ``changes`` holds
    (alert, NEW | REOPENED | WORSE). A check-in with pain 8, pain at night and numbness raised three alerts, and the
    clinic had three e-mails in the same second, the urgent one among them."""
    pairs = [[alert.pk, change] for alert, change in changes]
    if pairs:
        transaction.on_commit(lambda: _enqueue(pairs))


def _enqueue(pairs):
    # Runs inside on_commit, after the patient's data is safe: whatever goes wrong here is logged, never raised,
    # so it can't become an error page for the patient. (The immediate backend runs the task right here.)
    try:
        alert_mail_send.enqueue(pairs)
    except Exception:
        logger.exception("Could not queue the e-mail for alerts %s.", _ids(pairs))


def _ids(pairs):
    return ", ".join(str(alert_id) for alert_id, _change in pairs)


def alert_recipients(alert):
    recipients = [settings.CLINIC_DUTY_EMAIL]
    clinician = alert.plan.clinician
    if clinician is not None and clinician.is_active and clinician.email and clinician.email not in recipients:
        recipients.append(clinician.email)
    return recipients


def _alert_link(alert):
    return settings.SITE_URL.rstrip("/") + reverse("admin:recovery_alert_change", args=[alert.pk])


def alert_message(changes):
    """The e-mail for one patient's new, re-opened or worsened alerts (``changes``: (alert, change), the most
    severe first): who, how urgent, and where to read each. Deliberately nothing about their health."""
    changes = sorted(changes, key=lambda pair: -pair[0].severity)
    items = [
        {"alert": alert, "reopened": change == REOPENED, "worse": change == WORSE, "link": _alert_link(alert)}
        for alert, change in changes
    ]
    worst = changes[0][0]
    context = {
        "patient_name": str(worst.plan.patient),
        "items": items,
        "alert": worst,  # the one alert of most e-mails, or the most severe of several
        "reopened": items[0]["reopened"],
        "worse": items[0]["worse"],
        "link": items[0]["link"],
        "all_new": all(change == NEW for _alert, change in changes),
        "numbers": ", ".join(str(alert.pk) for alert, _change in changes),
        "urgent": worst.severity == Alert.Severity.URGENT,  # how soon to read it: no health detail, the admin has them
    }
    subject = render_to_string("recovery/email/alert_subject.txt", context).strip()
    body = render_to_string("recovery/email/alert.txt", context)
    return EmailMessage(subject=subject, body=body, to=alert_recipients(worst))


@task
def alert_mail_send(pairs, attempt=1):
    """Send the e-mail for one save's alerts (``pairs``: [alert id, change]); if it fails, queue the next try.
    Takes ids: task arguments must be plain JSON."""
    alerts = Alert.objects.select_related("plan__patient", "plan__clinician").in_bulk([pk for pk, _c in pairs])
    changes = [(alerts[pk], change) for pk, change in pairs if pk in alerts]
    if not changes:
        logger.warning("Alerts %s are gone: no e-mail sent.", _ids(pairs))
        return 0
    if len(changes) < len(pairs):
        logger.warning("Some of alerts %s are gone: the e-mail names the rest.", _ids(pairs))
    if attempt > 1:
        changes = [(alert, change) for alert, change in changes if alert.acknowledged_at is None]
        if not changes:
            logger.info("Alerts %s were acknowledged before their e-mail could go: no more tries.", _ids(pairs))
            return 0
    try:
        return alert_message(changes).send(using=MAILER)
    except Exception:
        still = [[alert.pk, change] for alert, change in changes]
        minutes = _try_again_later(alert_mail_send, still, attempt, what=f"alerts {_ids(still)}")
        then = _then(minutes)
        logger.exception("Could not send the e-mail for alerts %s (%s); the alerts are saved.", _ids(pairs), then)
        # Raised again so a task worker records the task as failed; the immediate backend does the same.
        raise


def _try_again_later(mail_task, args, attempt, *, what):
    """Queue the next try of ``mail_task`` with ``args`` (plain JSON), if one is left; the minutes until it, or
    None. One rule for every e-mail to the clinic about alerts."""
    if attempt > len(ALERT_MAIL_RETRY_MINUTES) or not mail_task.get_backend().supports_defer:
        return None
    minutes = ALERT_MAIL_RETRY_MINUTES[attempt - 1]
    run_after = timezone.now() + datetime.timedelta(minutes=minutes)
    try:
        mail_task.using(run_after=run_after).enqueue(args, attempt=attempt + 1)
    except Exception:
        logger.exception("Could not queue the next try of the e-mail for %s.", what)
        return None
    return minutes


def _then(minutes):
    return f"trying again in {minutes} minute{'' if minutes == 1 else 's'}" if minutes else "no more tries"


def inactive_alerts_notify(alerts):
    """Tell the clinic of the morning's new inactive alerts in one e-mail to the duty address, and one to each
    clinician for their own patients: a clinic of thousands had one e-mail per quiet patient, every morning."""
    alert_ids = [alert.pk for alert in alerts]
    if alert_ids:
        transaction.on_commit(lambda: _enqueue_digest(alert_ids))


def _enqueue_digest(alert_ids):
    try:
        alerts = Alert.objects.select_related("plan__clinician").filter(pk__in=alert_ids)
        inactive_digest_send.enqueue(inactive_digest_mails(alerts))
    except Exception:
        logger.exception("Could not queue the e-mail for the inactive alerts %s.", ", ".join(map(str, alert_ids)))


def inactive_digest_mails(alerts):
    """Who hears of which alerts, as [recipient, [alert id, ...]] (task arguments must be plain JSON): the duty
    address of every alert, each clinician of their own patients'."""
    by_recipient = {}
    for alert in alerts:
        for recipient in alert_recipients(alert):
            by_recipient.setdefault(recipient, []).append(alert.pk)
    return [[recipient, sorted(ids)] for recipient, ids in by_recipient.items()]


def inactive_digest_message(recipient, alerts):
    """One recipient's e-mail of a digest: each quiet patient's name and the link to their alert, nothing more."""
    context = {
        "items": [
            {"patient_name": str(alert.plan.patient), "link": _alert_link(alert)}
            for alert in sorted(alerts, key=lambda alert: str(alert.plan.patient))
        ],
    }
    subject = render_to_string("recovery/email/inactive_digest_subject.txt", context).strip()
    body = render_to_string("recovery/email/inactive_digest.txt", context)
    return EmailMessage(subject=subject, body=body, to=[recipient])


@task
def inactive_digest_send(mails, attempt=1):
    """Send a digest's e-mails (``mails``: [recipient, [alert id, ...]]), each on its own: a server that refuses
    one address (a clinician's mistyped one) stops only that e-mail, where one ``send_messages`` for all of them
    stopped at the first refusal. Only the e-mails that failed are tried again, with the alerts still open, so the
    duty address does not get a copy for each try of someone else's. Returns the number sent."""
    ids = {pk for _recipient, pks in mails for pk in pks}
    alerts = Alert.objects.select_related("plan__patient").filter(pk__in=ids)
    if attempt > 1:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    alerts = alerts.in_bulk()
    todo = [(recipient, [alerts[pk] for pk in pks if pk in alerts]) for recipient, pks in mails]
    todo = [(recipient, theirs) for recipient, theirs in todo if theirs]
    if not todo:
        return 0
    sent, error = set(), None
    try:
        with mailers[MAILER] as connection:
            for recipient, theirs in todo:
                try:
                    connection.send_messages([inactive_digest_message(recipient, theirs)])
                except Exception as exc:
                    error = exc
                else:
                    sent.add(recipient)
    except Exception as exc:
        error = exc  # opening (or closing) the connection failed: what was not sent by then is still to send
    failed = [[recipient, [alert.pk for alert in theirs]] for recipient, theirs in todo if recipient not in sent]
    if failed:
        ids = ", ".join(str(pk) for pk in sorted({pk for _r, pks in failed for pk in pks}))
        minutes = _try_again_later(inactive_digest_send, failed, attempt, what=f"the inactive alerts {ids}")
        logger.error(
            "Could not send %d of the e-mails for the inactive alerts %s (%s); the alerts are saved.",
            len(failed),
            ids,
            _then(minutes),
            exc_info=error,
        )
        # Raised so a task worker records the task as failed (the others went: they are not sent again).
        raise error
    return len(sent)

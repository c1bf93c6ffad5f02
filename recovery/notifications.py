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


def alert_notify(alert, *, reopened=False, worse=False):
    """Tell the clinic about a new alert, an acknowledged one re-opened, or an open one the patient's edit made
    worse, once the current transaction commits (at once outside one)."""
    alerts_notify([(alert, REOPENED if reopened else WORSE if worse else NEW)])


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


def alert_message(changes):
    """The e-mail for one patient's new, re-opened or worsened alerts (``changes``: (alert, change), the most
    severe first): who, how urgent, and where to read each. Deliberately nothing about their health."""
    changes = sorted(changes, key=lambda pair: -pair[0].severity)
    site = settings.SITE_URL.rstrip("/")
    items = [
        {
            "alert": alert,
            "reopened": change == REOPENED,
            "worse": change == WORSE,
            "link": site + reverse("admin:recovery_alert_change", args=[alert.pk]),
        }
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
        "CLINIC_NAME": settings.CLINIC_NAME,
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
        minutes = _try_again_later([[alert.pk, change] for alert, change in changes], attempt)
        then = f"trying again in {minutes} minute{'s' if minutes > 1 else ''}" if minutes else "no more tries"
        logger.exception("Could not send the e-mail for alerts %s (%s); the alerts are saved.", _ids(pairs), then)
        # Raised again so a task worker records the task as failed; the immediate backend does the same.
        raise


def _try_again_later(pairs, attempt):
    """Queue the next try of the alerts' e-mail, if one is left; the minutes until it, or None."""
    if attempt > len(ALERT_MAIL_RETRY_MINUTES) or not alert_mail_send.get_backend().supports_defer:
        return None
    minutes = ALERT_MAIL_RETRY_MINUTES[attempt - 1]
    run_after = timezone.now() + datetime.timedelta(minutes=minutes)
    try:
        alert_mail_send.using(run_after=run_after).enqueue(pairs, attempt=attempt + 1)
    except Exception:
        logger.exception("Could not queue the next try of the e-mail for alerts %s.", _ids(pairs))
        return None
    return minutes


def inactive_alerts_notify(alerts):
    """Tell the clinic of the morning's new inactive alerts in one e-mail to the duty address, and one to each
    clinician for their own patients: a clinic of thousands had one e-mail per quiet patient, every morning."""
    alert_ids = [alert.pk for alert in alerts]
    if alert_ids:
        transaction.on_commit(lambda: _enqueue_digest(alert_ids))


def _enqueue_digest(alert_ids):
    try:
        inactive_digest_send.enqueue(alert_ids)
    except Exception:
        logger.exception("Could not queue the e-mail for the inactive alerts %s.", ", ".join(map(str, alert_ids)))


def inactive_digest_messages(alerts):
    """The e-mails of a digest: the duty address hears of every alert, each clinician of their own patients'."""
    by_recipient = {}
    for alert in alerts:
        for recipient in alert_recipients(alert):
            by_recipient.setdefault(recipient, []).append(alert)
    site = settings.SITE_URL.rstrip("/")
    messages = []
    for recipient, theirs in by_recipient.items():
        theirs = sorted(theirs, key=lambda alert: str(alert.plan.patient))
        context = {
            "items": [
                {
                    "patient_name": str(alert.plan.patient),
                    "link": site + reverse("admin:recovery_alert_change", args=[alert.pk]),
                }
                for alert in theirs
            ],
            "date": theirs[0].date,
            "CLINIC_NAME": settings.CLINIC_NAME,
        }
        subject = render_to_string("recovery/email/inactive_digest_subject.txt", context).strip()
        body = render_to_string("recovery/email/inactive_digest.txt", context)
        messages.append(EmailMessage(subject=subject, body=body, to=[recipient]))
    return messages


@task
def inactive_digest_send(alert_ids, attempt=1):
    """Send the digest of new inactive alerts; if it fails, try again later for those still open."""
    alerts = Alert.objects.select_related("plan__patient", "plan__clinician").filter(pk__in=alert_ids)
    if attempt > 1:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    alerts = list(alerts)
    if not alerts:
        return 0
    try:
        return mailers[MAILER].send_messages(inactive_digest_messages(alerts))
    except Exception:
        open_ids = [alert.pk for alert in alerts]
        minutes = None
        if attempt <= len(ALERT_MAIL_RETRY_MINUTES) and inactive_digest_send.get_backend().supports_defer:
            minutes = ALERT_MAIL_RETRY_MINUTES[attempt - 1]
            run_after = timezone.now() + datetime.timedelta(minutes=minutes)
            inactive_digest_send.using(run_after=run_after).enqueue(open_ids, attempt=attempt + 1)
        then = f"trying again in {minutes} minutes" if minutes else "no more tries"
        logger.exception("Could not send the e-mail for the inactive alerts (%s); the alerts are saved.", then)
        raise

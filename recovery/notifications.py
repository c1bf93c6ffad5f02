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
from django.core.mail import EmailMessage
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


def alert_notify(alert, *, reopened=False, worse=False):
    """Tell the clinic about a new alert, an acknowledged one re-opened, or an open one the patient's edit made
    worse, once the current transaction commits (at once outside one)."""
    alert_id = alert.pk
    transaction.on_commit(lambda: _enqueue(alert_id, reopened, worse))


def _enqueue(alert_id, reopened, worse):
    # Runs inside on_commit, after the patient's data is safe: whatever goes wrong here is logged, never raised,
    # so it can't become an error page for the patient. (The immediate backend runs the task right here.)
    try:
        alert_mail_send.enqueue(alert_id, reopened=reopened, worse=worse)
    except Exception:
        logger.exception("Could not queue the e-mail for alert %s.", alert_id)


def alert_recipients(alert):
    recipients = [settings.CLINIC_DUTY_EMAIL]
    clinician = alert.plan.clinician
    if clinician is not None and clinician.is_active and clinician.email and clinician.email not in recipients:
        recipients.append(clinician.email)
    return recipients


def alert_message(alert, *, reopened=False, worse=False):
    """The e-mail for a new, re-opened or worsened alert: who, how urgent, and where to read it. Deliberately nothing
    about their health."""
    context = {
        "patient_name": str(alert.plan.patient),
        "alert": alert,
        "reopened": reopened,
        "worse": worse,
        "urgent": alert.severity == Alert.Severity.URGENT,  # how soon to read it: no health detail, the admin has them
        "link": settings.SITE_URL.rstrip("/") + reverse("admin:recovery_alert_change", args=[alert.pk]),
        "CLINIC_NAME": settings.CLINIC_NAME,
    }
    subject = render_to_string("recovery/email/alert_subject.txt", context).strip()
    body = render_to_string("recovery/email/alert.txt", context)
    return EmailMessage(subject=subject, body=body, to=alert_recipients(alert))


@task
def alert_mail_send(alert_id, reopened=False, attempt=1, worse=False):
    """Send the e-mail for one alert; if it fails, queue the next try. Takes the alert's id: task arguments must
    be plain JSON."""
    alert = Alert.objects.select_related("plan__patient", "plan__clinician").filter(pk=alert_id).first()
    if alert is None:
        logger.warning("Alert %s is gone: no e-mail sent.", alert_id)
        return 0
    if attempt > 1 and alert.acknowledged_at is not None:
        logger.info("Alert %s was acknowledged before its e-mail could go: no more tries.", alert_id)
        return 0
    try:
        return alert_message(alert, reopened=reopened, worse=worse).send(using=MAILER)
    except Exception:
        minutes = _try_again_later(alert_id, reopened, worse, attempt)
        then = f"trying again in {minutes} minute{'s' if minutes > 1 else ''}" if minutes else "no more tries"
        logger.exception("Could not send the e-mail for alert %s (%s); the alert itself is saved.", alert_id, then)
        # Raised again so a task worker records the task as failed; the immediate backend does the same.
        raise


def _try_again_later(alert_id, reopened, worse, attempt):
    """Queue the next try of the alert's e-mail, if one is left; the minutes until it, or None."""
    if attempt > len(ALERT_MAIL_RETRY_MINUTES) or not alert_mail_send.get_backend().supports_defer:
        return None
    minutes = ALERT_MAIL_RETRY_MINUTES[attempt - 1]
    run_after = timezone.now() + datetime.timedelta(minutes=minutes)
    try:
        alert_mail_send.using(run_after=run_after).enqueue(
            alert_id, reopened=reopened, worse=worse, attempt=attempt + 1
        )
    except Exception:
        logger.exception("Could not queue the next try of the e-mail for alert %s.", alert_id)
        return None
    return minutes

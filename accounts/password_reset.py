"""The password reset e-mail leaves through the task queue, for an unknown address as for a known one.

Sent within the request (Django's way), the wait on the mail server told anyone timing the form which addresses
have an account here, and being a patient of a sports injury clinic is health data. Now every request does the
same work, queueing a task; the task looks the address up and sends the e-mail, or does nothing.

A patient who has not set up their account yet has no password to reset (Django skips such accounts), yet the page
for a dead invitation link sends them here. While their invitation is current they get it again, as it is: a new
one would kill every earlier link, the QR code of the printed welcome sheet among them, and anyone who knows the
address could do that at will. Once it has expired (or its e-mail failed) they get a new one, as reception's "Send
a new invitation" would send it. The page they see is the same whichever happens.

However often the form is sent, an account gets at most one e-mail from it in ``RESEND_AFTER_SECONDS`` and
``MAX_PER_DAY`` in a day of the clinic's calendar.
"""

import hashlib
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.tasks import task
from django.utils import timezone

from accounts.frontdesk.invitations import invitation_is_current, invitations_queue
from accounts.frontdesk.services import patient_invite
from audit.models import Action
from audit.recorder import note

logger = logging.getLogger(__name__)

EMAIL_TEMPLATES = {
    "subject_template_name": "accounts/email/password_reset_subject.txt",
    "email_template_name": "accounts/email/password_reset.txt",
}


# One e-mail per account (or typed address) in this many seconds: the form asked a hundred times must not fill a
# mailbox; and no more than this many a day to one account.
RESEND_AFTER_SECONDS = 5 * 60
MAX_PER_DAY = 3
DAY_SECONDS = 24 * 60 * 60


@task
def password_reset_send(email):
    """E-mail a reset link to the active account with a password at ``email``, or the invitation (the current one,
    or a new one once it has expired) to an active patient there still waiting to set up their account (neither:
    nothing is sent), within the limits above."""
    typed = email.strip()
    users = get_user_model().objects
    account = users.filter(email__iexact=typed).first()
    if not _allowed(account, typed):
        return
    waiting = account and users.patients().awaiting_activation().filter(pk=account.pk).first()
    if waiting:
        _invitation_send(waiting)
        return
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            extra_email_context={"site_url": settings.SITE_URL},  # the link in the e-mail is built on it
            **EMAIL_TEMPLATES,
        )


def _invitation_send(patient):
    if invitation_is_current(patient):
        # The same invitation, its links unchanged: the e-mail does not say it replaces the one before.
        invitations_queue([patient])
        what = "invitation e-mailed again, asked for on the password reset page"
    else:
        patient_invite(patient=patient)  # expired, or its e-mail failed: a new one, and the old links stop working
        what = "new invitation (the last had expired or not reached them), asked for on the password reset page"
    logger.info("User %s: %s.", patient.pk, what)
    # No request and no one signed in: the event says what happened to whose account, from the reset page.
    note(None, Action.CHANGE, target=patient, patient=patient, description=what)


def _allowed(account, typed):
    """Whether this request may send an e-mail. Keyed on the account when the address has one: the lookup ignores
    case, so a key made of the typed string would let "Dana@", "DANA@" and look-alike spellings each have their own
    five minutes. A cache that is away answers None (django-redis with IGNORE_EXCEPTIONS): then the request is
    allowed, for a patient who asked for a link must not silently get nothing."""
    if account is None:
        key = "password-reset:" + hashlib.sha256(typed.lower().encode()).hexdigest()  # no address in the cache
        return cache.add(key, 1, RESEND_AFTER_SECONDS) is not False
    if cache.add(f"password-reset:user:{account.pk}", 1, RESEND_AFTER_SECONDS) is False:
        return False
    day_key = f"password-reset:user:{account.pk}:{timezone.localdate():%Y-%m-%d}"
    cache.add(day_key, 0, DAY_SECONDS)
    try:
        count = cache.incr(day_key)
    except ValueError:  # gone between the two calls
        count = 1
        cache.set(day_key, count, DAY_SECONDS)
    if count is not None and count > MAX_PER_DAY:
        logger.info("User %s: no e-mail from the password reset page, %d asked for today.", account.pk, count)
        return False
    return True

"""The password reset e-mail leaves through the task queue, for an unknown address as for a known one.

Sent within the request (Django's way), the wait on the mail server told anyone timing the form which addresses
have an account here, and being a patient of a sports injury clinic is health data. Now every request does the
same work, queueing a task; the task looks the address up and sends the e-mail, or does nothing.

A patient who has not set up their account yet has no password to reset (Django skips such accounts), yet the page
for a dead invitation link sends them here: they get a new invitation instead, as reception's "Send a new
invitation" would send it. The page they see is the same whichever happens.
"""

import hashlib
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.tasks import task

from accounts.frontdesk.services import patient_invite

logger = logging.getLogger(__name__)

EMAIL_TEMPLATES = {
    "subject_template_name": "accounts/email/password_reset_subject.txt",
    "email_template_name": "accounts/email/password_reset.txt",
}


# One reset e-mail per address in this many seconds: the form asked a hundred times must not fill a mailbox.
RESEND_AFTER_SECONDS = 5 * 60


@task
def password_reset_send(email):
    """E-mail a reset link to each active account with a password at ``email``, or a new invitation to an active
    patient there still waiting to set up their account (neither: nothing is sent), once in
    ``RESEND_AFTER_SECONDS`` for the same address."""
    key = "password-reset:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()  # no address in the cache
    if not cache.add(key, 1, RESEND_AFTER_SECONDS):
        return
    waiting = get_user_model().objects.patients().awaiting_activation().filter(email__iexact=email.strip()).first()
    if waiting is not None:
        # Their old links stop working, as when reception sends a new invitation.
        logger.info("New invitation for user %s, asked for on the password reset page.", waiting.pk)
        patient_invite(patient=waiting)
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

"""The "your password was changed" e-mail, after a reset by e-mailed link or a change on the account page.

Without it, someone who took an account over (a reset link read in a shared mailbox, a session left open) would
change the password and the owner would never hear of it. The notice says when, and whom to call; nothing about
the person's health: e-mail travels and lingers where health data must not.

Queued as the portal's other e-mails are, once the change has committed (at once outside a transaction), and
sent by the worker: a slow or broken mail server never turns the changed password into an error page.
"""

import datetime
import logging

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)

MAILER = "default"


def password_changed_notify(user):
    """Tell ``user`` by e-mail that their password was changed just now."""
    user_id, changed_at = user.pk, timezone.now().isoformat()  # task arguments are plain JSON
    transaction.on_commit(lambda: _enqueue(user_id, changed_at))


def _enqueue(user_id, changed_at):
    # After the new password is saved: a failure here is logged, never raised, so the page still says it changed.
    try:
        password_changed_send.enqueue(user_id, changed_at)
    except Exception:
        logger.exception("Could not queue the password-changed e-mail for user %s.", user_id)


def password_changed_message(user, changed_at):
    context = {
        "name": user.first_name or "there",
        "changed_at": changed_at,  # shown in the clinic's time zone by the template's |date
    }
    subject = render_to_string("accounts/email/password_changed_subject.txt", context).strip()
    body = render_to_string("accounts/email/password_changed.txt", context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


@task
def password_changed_send(user_id, changed_at):
    """Send the notice to the account's address (none for an account since switched off or without an address)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return 0
    return password_changed_message(user, datetime.datetime.fromisoformat(changed_at)).send(using=MAILER)

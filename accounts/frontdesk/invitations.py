"""Invitations: a one-time link for a new patient to choose a password, sent by e-mail and printed as a QR code.

The link is ``{SITE_URL}/welcome/<uid>/<token>/``. Its token comes from Django's password-reset machinery with its
own salt and lifetime, and its hash covers the password, the last login, the e-mail address, and ``invited_at``:

- choosing a password (and being logged in) uses the link up;
- sending a new invitation moves ``invited_at``, so every older link (e-mails and printed sheets alike) dies;
  sending the current one again (what the password reset page does while it is current) keeps them all;
- correcting the e-mail address kills links that went to the old one;
- after ``INVITATION_VALID_DAYS`` days the link expires.

The e-mail leaves after the enrolment commits, through Django's tasks framework, so a failing mail server never
loses an enrolment: the task records on the patient whether the e-mail went out or failed, for the front desk.
"""

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMessage, mailers
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

logger = logging.getLogger(__name__)

MAILER = "default"
# Invitations are sent in tasks of this many, over one connection to the mail server: a group intake of a
# thousand patients is ten small tasks, not a thousand, and one bad address never holds up the others.
BATCH_SIZE = 100


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.frontdesk.invitations.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        invited = "" if user.invited_at is None else user.invited_at.isoformat()
        return f"{super()._make_hash_value(user, timestamp)}{invited}{user.is_active}"

    def _now(self):
        # UTC: Django's clock here is naive local time, which goes back an hour when summer time ends and would
        # refuse a link made in that hour until the clock caught up.
        return timezone.now().replace(tzinfo=None)

    def check_token(self, user, token):
        # Django's own check compares the age with PASSWORD_RESET_TIMEOUT (hours); invitations last days.
        if not (user and token) or user.invited_at is None:
            return False
        try:
            ts_b36, _ = token.split("-")
            timestamp = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, timestamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        # The e-mail and the welcome sheet say "until 3 December": the link works to the end of that day in the
        # clinic, not only to the hour it was sent.
        made = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=timestamp)
        now = self._now().replace(tzinfo=datetime.UTC)
        return timezone.localdate(now) <= invitation_expires_on(made)

    def make_token_made_at(self, user, made):
        """A token dated ``made`` rather than now: it expires with the invitation started then, not days later."""
        naive_utc = made.astimezone(datetime.UTC).replace(tzinfo=None)
        return self._make_token_with_timestamp(user, self._num_seconds(naive_utc), self.secret)


invitation_tokens = InvitationTokenGenerator()


def invitation_link(user, *, made=None):
    """A link for the user's current invitation, absolute, built from SITE_URL (no request needed); it works for
    ``INVITATION_VALID_DAYS`` from ``made`` (now, by default)."""
    token = invitation_tokens.make_token(user) if made is None else invitation_tokens.make_token_made_at(user, made)
    path = reverse("welcome", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token})
    return settings.SITE_URL.rstrip("/") + path


def invitation_expires_on(made=None):
    """The last day on which a link made now (or at ``made``) works, to its end, in the clinic's time zone."""
    # Days of the clinic's calendar, not 24-hour spans: seven of them across a change of the clocks was six days
    # for a link made just after midnight, or eight for one made just before.
    made = made or timezone.now()
    return timezone.localdate(made) + datetime.timedelta(days=settings.INVITATION_VALID_DAYS)


def invitation_is_current(user):
    """The user's invitation can still be used as it is: its e-mail did not fail, and a link dated from it has
    not expired. The password reset page sends such an invitation again rather than a new one, which would kill
    the links already out (the printed welcome sheet's among them)."""
    return (
        user.invited_at is not None
        and user.invitation_failed_at is None
        and timezone.localdate() <= invitation_expires_on(user.invited_at)
    )


def invitation_message(user, *, replaces_earlier=False):
    """The invitation e-mail. One that replaces an earlier one says so, in its subject too: phones group mails of
    the same subject, and a patient tapped the first, dead, link of the thread.

    Its link is dated from the invitation (``invited_at``), not from the moment it is sent: the same invitation
    sent again expires when it always did, and the e-mail and the clinic's inactive alerts give one date."""
    context = {
        "user": user,
        "replaces_earlier": replaces_earlier,
        "link": invitation_link(user, made=user.invited_at),
        "valid_days": settings.INVITATION_VALID_DAYS,
        "expires_on": invitation_expires_on(user.invited_at),
        "SITE_URL": settings.SITE_URL,
    }
    subject = render_to_string("frontdesk/email/invitation_subject.txt", context).strip()
    body = render_to_string("frontdesk/email/invitation.txt", context)
    return EmailMessage(subject=subject, body=body, to=[user.email])


def _stamp(user):
    return [user.pk, user.invited_at.isoformat()]


def invitations_queue(users, *, replaces_earlier=False):
    """Send each user's current invitation once the current transaction commits (at once outside one)."""
    stamps = [_stamp(user) for user in users]
    for start in range(0, len(stamps), BATCH_SIZE):
        batch = stamps[start : start + BATCH_SIZE]
        transaction.on_commit(lambda batch=batch: _enqueue(batch, replaces_earlier))


def _enqueue(stamps, replaces_earlier=False):
    # Runs after the enrolment has committed: whatever goes wrong here is logged, never raised, so it cannot
    # turn a saved enrolment into an error page. (The immediate backend runs the task right here.)
    try:
        invitations_send.enqueue(stamps, replaces_earlier=replaces_earlier)
    except Exception:
        logger.exception("Could not queue %d invitation e-mail(s); the front desk shows them as not sent.", len(stamps))
        ids = [user_id for user_id, _ in stamps]
        get_user_model().objects.filter(pk__in=ids, invitation_sent_at__isnull=True).update(
            invitation_failed_at=timezone.now()
        )


def invitation_renew(user, *, replaces_earlier=True):
    """Start a new invitation: older links stop working, and the e-mail goes out after the commit. It says that it
    replaces the one sent before, unless ``replaces_earlier`` is False (the first to reach a corrected address)."""
    user.invited_at = timezone.now()
    user.invitation_sent_at = None
    user.invitation_failed_at = None
    user.save(update_fields=["invited_at", "invitation_sent_at", "invitation_failed_at"])
    invitations_queue([user], replaces_earlier=replaces_earlier)


@task
def invitations_send(stamps, replaces_earlier=False):
    """E-mail invitations. ``stamps`` are [user id, invited_at] pairs (task arguments must be plain JSON);
    ``replaces_earlier``: each is a new link for one sent before, and says so.

    An invitation renewed since it was queued is skipped: the newer one has its own task. Each message is sent
    on its own, so one refused address fails only its own invitation. Returns the number sent.
    """
    User = get_user_model()
    wanted = {user_id: datetime.datetime.fromisoformat(invited_at) for user_id, invited_at in stamps}
    users = [
        user
        for user in User.objects.filter(pk__in=wanted, is_active=True)
        if user.invited_at == wanted[user.pk] and not user.is_activated
    ]
    sent, failed = [], []
    try:
        with mailers[MAILER] as connection:
            for user in users:
                try:
                    connection.send_messages([invitation_message(user, replaces_earlier=replaces_earlier)])
                except Exception:
                    logger.exception("Could not send the invitation e-mail to user %s.", user.pk)
                    failed.append(user.pk)
                else:
                    sent.append(user.pk)
    except Exception:
        # Opening (or closing) the connection failed: nothing left that was not already sent.
        logger.exception("Could not reach the mail server for %d invitation(s).", len(users))
        failed = [user.pk for user in users if user.pk not in sent]
    now = timezone.now()
    _record(User, sent, wanted, invitation_sent_at=now, invitation_failed_at=None)
    _record(User, failed, wanted, invitation_failed_at=now)
    return len(sent)


def _record(User, ids, wanted, **changes):
    # One UPDATE per distinct invitation time (a group intake shares one), guarded so that a resend made while
    # this task ran keeps its own state.
    by_time = {}
    for user_id in ids:
        by_time.setdefault(wanted[user_id], []).append(user_id)
    for invited_at, user_ids in by_time.items():
        User.objects.filter(pk__in=user_ids, invited_at=invited_at).update(**changes)

"""Sign-in protection and session lifetimes: the pieces django-axes and the session middleware call.

- Lockout (django-axes): five failed sign-ins for one e-mail address lock it for fifteen minutes; the login page
  then says so in plain words (``lockout_response``).
- Sign-in records: django-axes keeps the e-mail, address and browser of every sign-in (``AccessLog``); the
  sweep deletes those older than ``KEEP_SIGN_IN_LOGS`` (``sign_in_logs_prune``).
- Sessions: staff sessions end after ``SESSION_STAFF_IDLE_MINUTES`` without a request and ``SESSION_STAFF_MAX_HOURS``
  after sign-in (accounts/middleware.py reads the times stamped here at sign-in); patients' sessions end
  ``SESSION_COOKIE_AGE`` after sign-in, with no write on their requests.
"""

import datetime
import time

from axes.models import AccessLog
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone

from accounts.forms import WRONG_PASSWORDS_KEY, EmailAuthenticationForm
from accounts.roles import is_reception

# Session keys, stamped at sign-in.
STAFF_SESSION_KEY = "_security_staff"
SIGNED_IN_AT_KEY = "_security_signed_in_at"
SEEN_AT_KEY = "_security_seen_at"


def is_staff_member(user):
    """Reception, clinicians and administrators: everyone who sees other people's data."""
    return user.is_staff or user.is_superuser or is_reception(user)


def staff_idle_seconds():
    return settings.SESSION_STAFF_IDLE_MINUTES * 60


def staff_max_seconds():
    return settings.SESSION_STAFF_MAX_HOURS * 60 * 60


@receiver(user_logged_in, dispatch_uid="accounts.security.stamp_session")
def stamp_session(sender, request, user, **kwargs):
    """Mark the new session as staff or patient and note when it started (one write, part of the login's own)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = int(time.time())
    staff = is_staff_member(user)
    session[STAFF_SESSION_KEY] = staff
    session[SIGNED_IN_AT_KEY] = now
    session[SEEN_AT_KEY] = now
    if staff:
        # The cookie and the stored session expire soon after the idle limit too, so an abandoned staff session
        # is gone from the browser and the database even if nobody ever comes back to trigger the middleware.
        session.set_expiry(staff_idle_seconds() + settings.SESSION_ACTIVITY_REFRESH_SECONDS)


# -- django-axes ------------------------------------------------------------------------------------------------


def axes_username(request, credentials):
    """The e-mail address a sign-in was for, as the account stores it: lower case, no spaces around it."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return username.strip().lower()[:254] if username else None


def lockout_message():
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    until = timezone.localtime(timezone.now() + settings.AXES_COOLOFF_TIME)
    return (
        f"Too many unsuccessful attempts to sign in with this e-mail address. For your safety, signing in is paused "
        f"for {minutes} minutes (until {until:%H:%M}). If you have forgotten your password, reset it below, or call "
        f"the clinic on {settings.CLINIC_PHONE}."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the lockout explained; 429 tells scripts to slow down, browsers show the page.

    Locked out while signed in, by wrong passwords typed in this very session to change the password or to turn on
    two-factor sign-in: whoever is at that open session is not its owner, or cannot prove it, so it ends here. An
    address locked by guesses made elsewhere (a stranger at the login page) does not end its owner's session over
    one slip: the form they were on comes back, saying the password was wrong."""
    if request.user.is_authenticated:
        if request.session.get(WRONG_PASSWORDS_KEY, 0) < settings.AXES_FAILURE_LIMIT and original_response:
            return original_response
        auth.logout(request)
    form = EmailAuthenticationForm(request, initial={"username": axes_username(request, credentials) or ""})
    context = {"form": form, "lockout_message": lockout_message(), "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


# Axes's record of each sign-in (e-mail, address, browser) is personal data kept only for looking into recent
# sign-ins. No retention is set for it elsewhere: 90 days, as for reminder records. The sign-ins themselves stay in
# the audit log.
KEEP_SIGN_IN_LOGS = datetime.timedelta(days=90)
PRUNE_BATCH = 5_000


def sign_in_logs_prune(*, now):
    """Delete up to ``PRUNE_BATCH`` of Axes's sign-in records older than ``KEEP_SIGN_IN_LOGS``, oldest first (a
    first run over years of them stays short); return how many. Run by the sweep every minute."""
    cutoff = now - KEEP_SIGN_IN_LOGS
    # Rows are written in time order and attempt_time has no index: the oldest id says, in one index lookup,
    # whether there is anything to delete, instead of a scan of the table each minute.
    oldest = AccessLog.objects.order_by("pk").values_list("attempt_time", flat=True).first()
    if oldest is None or oldest >= cutoff:
        return 0
    old = AccessLog.objects.filter(attempt_time__lt=cutoff).order_by("pk").values_list("pk", flat=True)
    deleted, _ = AccessLog.objects.filter(pk__in=list(old[:PRUNE_BATCH])).delete()
    return deleted

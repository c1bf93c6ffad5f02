"""Session lifetimes, the superusers' second factor, and no caching of pages (see accounts/security.py)."""

import time

from django.conf import settings
from django.contrib import auth, messages
from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode

from accounts.security import SEEN_AT_KEY, SIGNED_IN_AT_KEY, STAFF_SESSION_KEY, staff_idle_seconds, staff_max_seconds


class SessionTimeoutMiddleware:
    """Ends a staff session after ``SESSION_STAFF_IDLE_MINUTES`` without a request, or ``SESSION_STAFF_MAX_HOURS``
    after sign-in; the request then goes on as an anonymous one (so the page asks to sign in again).

    The last-seen time is rewritten at most every ``SESSION_ACTIVITY_REFRESH_SECONDS``, never on each request.
    Patients' sessions are left to ``SESSION_COOKIE_AGE``: nothing here reads or writes anything for them beyond
    the session the page loads anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        try:
            staff = session.get(STAFF_SESSION_KEY)
        except DatabaseError:
            # The database is away: the view's own first query fails the same way, inside the 503 handling.
            return self.get_response(request)
        if staff:
            now = int(time.time())
            seen = session.get(SEEN_AT_KEY, now)
            started = session.get(SIGNED_IN_AT_KEY, now)
            if now - seen > staff_idle_seconds() or now - started > staff_max_seconds():
                request.signed_out_by_timeout = True
                auth.logout(request)
                lost = " What you sent was not saved: sign in, then send it again." if request.method == "POST" else ""
                messages.info(
                    request, f"You were signed out after a while without activity.{lost or ' Please sign in again.'}"
                )
            elif now - seen >= settings.SESSION_ACTIVITY_REFRESH_SECONDS:
                session[SEEN_AT_KEY] = now
        return self.get_response(request)


class UnsavedPostMiddleware:
    """A form sent after its session ended (a patient's after 14 days, or signed out on another phone) is sent to
    the login page like any request, and what it held is gone: say so there, or the patient believes the check-in
    with a warning sign was saved, and the page after the login shows the one saved before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code == 302
            and not request.user.is_authenticated
            and not getattr(request, "signed_out_by_timeout", False)  # its own message says so
            and response["Location"].startswith(_login_pages())
        ):
            check_in = request.path == reverse("recovery:check_in")
            # Focused on the login page (templates/base.html), and said again where the form was: the check-in
            # page shows the answers saved earlier, which read as if the lost ones had been (UNSAVED_PATH_KEY).
            messages.warning(request, UNSAVED_CHECK_IN if check_in else UNSAVED_POST, extra_tags=UNSAVED_TAG)
            request.session[UNSAVED_PATH_KEY] = request.path
        return response


UNSAVED_POST = "You had been signed out, so what you sent was not saved. Please log in, then send it again."
UNSAVED_CHECK_IN = (
    "You had been signed out, so your check-in was not saved. Please log in and send it again. If you have a "
    "warning sign, don't wait: call 999 in an emergency, or the clinic."
)
UNSAVED_TAG = "unsaved"
UNSAVED_PATH_KEY = "_unsaved_post_path"  # kept through the login (it cycles the session key, not its data)


def _login_pages():
    # The admin sends a signed-out request to its own login page, which forwards to the portal's.
    return (resolve_url(settings.LOGIN_URL) + "?", reverse("admin:login") + "?")


# Pages a superuser without a verified second factor may still open: the two-factor page itself, signing out,
# and what needs no account at all.
TWO_FACTOR_OPEN_URL_NAMES = {
    "accounts:two_factor",
    "accounts:two_factor_verify",
    "accounts:logout",
    "accounts:login",
    "healthz",
    "privacy",
}


class TwoFactorRequiredMiddleware:
    """With ``TWO_FACTOR_REQUIRED_FOR_SUPERUSERS`` on (production), a superuser whose session has not been verified
    with a code is sent to /accounts/two-factor/ (to set the app up, or to type a code) before any other page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.TWO_FACTOR_REQUIRED_FOR_SUPERUSERS:
            return None
        user = request.user
        if not (user.is_authenticated and user.is_superuser) or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in TWO_FACTOR_OPEN_URL_NAMES:
            return None
        url = reverse("accounts:two_factor") + "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(url)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer of the portal (static files are served before this), so neither
    the browser nor a proxy keeps a copy of a page with health data. A view that means to be cached says ``public``
    and is left alone (none does now: every page holds a CSRF token)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "public" not in response.get("Cache-Control", ""):
            patch_cache_control(response, no_store=True)
        return response

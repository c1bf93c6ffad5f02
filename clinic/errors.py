"""Friendly answers in plain words when something goes wrong (docs/OPERATIONS.md).

- A page that does not exist, or belongs to someone else (404), one the person may not open (403), and a form
  whose security token no longer matches, e.g. sent after signing out elsewhere (403, ``CSRF_FAILURE_VIEW``): each
  its own page in the portal's layout, never Django's technical one, rendered like the pages below.
- A page whose database query fails (PostgreSQL restarting, the pool's 2-second wait running out) gets a plain
  503 "try again shortly" page instead of a server error. It is rendered without touching the database: no
  session, no user, no context processors; only settings and static files.
- An address that only a button may send, opened directly (405): a page that says so, not a blank one.
- An address whose query string holds a NUL character (``%00``): the plain 400 page, before PostgreSQL refuses it.
- A request body bigger than ``REQUEST_MAX_BYTES`` is refused with a 413 page before anything reads it; bodies
  that Django itself refuses (``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many fields or files) get the same page
  through ``handler400``, and the TLS proxy shows it too (``/too-big/``) when it refuses a body first.

Nothing here retries or hides a failure: each one is logged, and the running server recovers on its own once the
database is back (the pool checks each connection before handing it out: ``CONN_HEALTH_CHECKS`` in settings).
"""

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
TOO_BIG = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
RETRY_AFTER_SECONDS = 30


def _standalone(template_name, status, **headers):
    # No request is passed: context processors (which read the session and the user) never run.
    context = {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "retry_after": RETRY_AFTER_SECONDS,
    }
    response = HttpResponse(loader.get_template(template_name).render(context), status=status)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def database_unavailable_response():
    return _standalone("503.html", 503, Retry_After=str(RETRY_AFTER_SECONDS))


def too_big_response():
    return _standalone("413.html", 413)


class DatabaseUnavailableMiddleware:
    """Refuse oversized bodies unread, and turn a view's lost database into the 503 page.

    Last in MIDDLEWARE, so its ``process_exception`` is asked first, and its size check runs before any view or
    the CSRF check reads the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            logger.warning("Refused a %d-byte %s to %s: too big.", length, request.method, request.path)
            return too_big_response()
        if "%00" in request.META.get("QUERY_STRING", ""):
            # No link of the portal holds one; PostgreSQL refuses text with a NUL, and the admin's filters (which
            # no form cleans) would pass it on: a 500. Forms refuse it themselves (Django's CharField).
            return _standalone("400.html", 400)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN):
            logger.error("The database did not answer for %s %s.", request.method, request.path, exc_info=exception)
            return database_unavailable_response()
        return None


class MethodNotAllowedMiddleware:
    """A page in plain words where Django answers a blank 405: an address that only a form's button may send
    (signing out, the admin's restore of a version) opened from a bookmark or the address bar. ``post_only``
    answers the portal's own actions better (clinic/post_only.py); this catches Django's and the libraries'."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and request.method == "GET":
            page = _standalone("405.html", 405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response


def too_big_page(request):
    """The 413 page at an address of its own, for the TLS proxy to show when it refuses a body itself
    (deploy/nginx.conf, ``error_page 413``): nginx reads and drops what it refuses, where gunicorn, answering before
    reading, closed the connection while nginx was still sending and nginx showed a 502 instead."""
    return too_big_response()


def bad_request(request, exception, template_name="400.html"):
    """handler400: a body too big to read gets the 413 page; anything else a plain 400 in the portal's layout."""
    if isinstance(exception, TOO_BIG):
        return too_big_response()
    return _standalone(template_name, 400)


def page_not_found(request, exception, template_name="404.html"):
    """handler404: the same page for a mistyped address and for another patient's record, which must not be told
    apart."""
    return _standalone(template_name, 404)


def permission_denied(request, exception, template_name="403.html"):
    """handler403."""
    return _standalone(template_name, 403)


def csrf_failure(request, reason="", template_name="403_csrf.html"):
    """CSRF_FAILURE_VIEW: the form came from a page older than the session (signed out and in again since, or the
    cookie was cleared). Nothing was saved; reloading the page gives the form a fresh token. (Django's CSRF check
    has logged the reason already.)"""
    return _standalone(template_name, 403)


def server_error(request, template_name="500.html"):
    """handler500: a lost database outside a view (a middleware reading the session, say) is still a 503."""
    if isinstance(sys.exception(), DATABASE_DOWN):
        return database_unavailable_response()
    return _standalone(template_name, 500)

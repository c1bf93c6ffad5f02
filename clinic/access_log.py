"""Gunicorn's access log without what would let a log reader into an account or onto a patient's details.

The query string is left out (the front desk's search sends names, phone numbers and dates of birth in it), and
the secret part of a link that works without a password (an invitation, a password reset, a reminders opt-out)
is replaced: whoever reads the logs could otherwise open a patient's account before the patient does. nginx's log
does the same (deploy/nginx.conf).
"""

import re

from gunicorn.glogging import Logger

# The links whose last parts are a secret (a user id and a token, or a signed token), and what the log shows of
# them: enough to tell which page it was.
# No closing slash asked: a link copied without it is logged before APPEND_SLASH redirects it.
SECRET_LINKS = [
    (re.compile(r"^/welcome/[^/]+/[^/]+"), "/welcome/[link]/"),
    (re.compile(r"^/accounts/password/reset/[^/]+/[^/]+"), "/accounts/password/reset/[link]/"),
    (re.compile(r"^/reminders/unsubscribe/[^/]+"), "/reminders/unsubscribe/[link]/"),
]


def loggable_path(path):
    """``path`` (without its query string) as the access log may show it."""
    for secret, shown in SECRET_LINKS:
        if secret.match(path):
            return shown
    return path


class PrivateAccessLogger(Logger):
    """Gunicorn's logger (``logger_class`` in gunicorn.conf.py) with the request line made loggable."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = loggable_path(environ.get("PATH_INFO") or "/")
        if environ.get("QUERY_STRING"):
            path += "?…"  # that there was one can matter when reading a log; what it held must not be there
        atoms["r"] = f"{environ['REQUEST_METHOD']} {path} {environ['SERVER_PROTOCOL']}"
        atoms["U"], atoms["q"] = path, ""
        return atoms

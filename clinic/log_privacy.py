"""Logs without what would let a log reader into an account or onto a patient's details.

The secret part of a link that works without a password (an invitation, a password reset, a reminders opt-out)
is replaced wherever a path is logged: gunicorn's access line (clinic/access_log.py), and Django's own warnings and
errors ("Service Unavailable: /welcome/…", "Method Not Allowed (HEAD): /reminders/unsubscribe/…"), which name the
path of a failed request whose link still works afterwards. nginx's log does the same (deploy/nginx.conf).
"""

import logging
import re

# The links whose last parts are a secret (a user id and a token, or a signed token), and what a log shows of them:
# enough to tell which page it was. No closing slash asked: a link copied without it is logged before APPEND_SLASH
# redirects it.
SECRET_LINKS = [
    (re.compile(r"/welcome/[^/\s?#]+/[^/\s?#]+/?"), "/welcome/[link]/"),
    (re.compile(r"/accounts/password/reset/[^/\s?#]+/[^/\s?#]+/?"), "/accounts/password/reset/[link]/"),
    (re.compile(r"/reminders/unsubscribe/[^/\s?#]+/?"), "/reminders/unsubscribe/[link]/"),
]


def without_secret_links(text):
    """``text`` (a path, or a log line naming one) with each secret link's secret replaced."""
    for secret, shown in SECRET_LINKS:
        text = secret.sub(shown, text)
    return text


class SecretLinksFilter(logging.Filter):
    """On the console handler (settings.LOGGING): every record's message, its secret links replaced."""

    def filter(self, record):
        message = record.getMessage()
        cleaned = without_secret_links(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True

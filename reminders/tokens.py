"""The unsubscribe link in each reminder: the patient's id, signed with the site's key and a salt of its own.

Its own salt means no other signed value of the portal (sessions, invitation or password-reset tokens) can be
turned into an unsubscribe link, nor the reverse. The link does not expire: an old e-mail's link still works.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

SALT = "reminders.unsubscribe"


def unsubscribe_token(user):
    return signing.dumps(user.pk, salt=SALT)


def unsubscribe_url(user):
    path = reverse("reminders:unsubscribe", kwargs={"token": unsubscribe_token(user)})
    return settings.SITE_URL.rstrip("/") + path


def user_for_token(token):
    """The person the link was made for, or None for a tampered, foreign or outdated link."""
    try:
        pk = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return get_user_model().objects.filter(pk=pk).first()

"""What the e-mails say of the clinic, for templates rendered without a request (no context processor runs there,
and Django's password-reset e-mail gets only its own context): ``{% load clinic_mail %}``, then ``{% clinic_name %}``,
``{% clinic_phone %}`` and ``{% password_link_lifetime %}``. Each reads the setting
the portal's pages use, so an e-mail never names another clinic or number than the site does.

Every e-mail template names the clinic and its number with these tags, never from its context: one way, so that
no e-mail can show an empty name because its code forgot to pass one. (The pages have them from the context
processor; a page may use the lifetime too.) Here, in the project's own app, because e-mails of every app use it.
"""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def clinic_name():
    return settings.CLINIC_NAME


@register.simple_tag
def clinic_phone():
    return settings.CLINIC_PHONE


@register.simple_tag
def password_link_lifetime():
    """How long a password-reset link works, in words: "3 hours" for ``PASSWORD_RESET_TIMEOUT`` (seconds)."""
    return lifetime_in_words(settings.PASSWORD_RESET_TIMEOUT)


def lifetime_in_words(seconds):
    minutes = seconds // 60
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"

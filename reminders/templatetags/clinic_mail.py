"""What the e-mails to patients say of the clinic, for templates rendered without a request (no context processor
runs there, and Django's password-reset e-mail gets only its own context): ``{% load clinic_mail %}``, then
``{% clinic_name %}``, ``{% clinic_phone %}`` and ``{% password_link_lifetime %}``. Each reads the setting the
portal's pages use, so an e-mail never names another clinic or number than the site does."""

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

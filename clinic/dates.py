"""``{{ date|day:"l j F" }}``: Django's ``date`` filter for calendar days, each answer remembered; and
``{{ moment|ago:now }}``: "3 hours ago", or "just now" where ``timesince`` would say "0 minutes"; and
``{{ last|until:today }}``: when a stretch of days ends, said from today.

The patients' pages name the same few dozen days for everyone (``/progress/`` shows the last four weeks, twice),
and the ``date`` filter costs 10–13 µs a call, mostly looking up the translated names of days and months. A day's
name in a given format and language never changes, so ``|day`` keeps the answers (a bounded number of them).
Date-times still go to the ``date`` filter: theirs depend on the time zone. Loaded in every template (TEMPLATES'
``builtins``).
"""

import datetime
import functools

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.timesince import timesince
from django.utils.translation import get_language

register = template.Library()


@register.filter(expects_localtime=True)  # as |date: a date-time is shown in the clinic's time zone
def day(value, format_string):
    if type(value) is not datetime.date:
        return date_filter(value, format_string)
    return _named(value, format_string, get_language())


@functools.lru_cache(maxsize=4096)  # four weeks in a few formats and languages: a few hundred entries a day
def _named(value, format_string, language):
    # The language is part of the key only: the filter reads the active one itself.
    return date_filter(value, format_string)


@register.filter
def ago(value, now):
    if not value:
        return ""
    if (now - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, now)} ago"


@register.filter
def until(last, today):
    """When a stretch of days (a weekly task's week) ends, said from ``today``: "until today", "until tomorrow",
    "until Sunday" within the week, "until Sunday 6 December" beyond it (a week of eight days ends on the weekday it
    began), "ended Sunday" once over (an earlier day's page)."""
    days = (last - today).days
    if days < 0:
        return f"ended {day(last, 'l')}"
    if days <= 1:
        return "until today" if days == 0 else "until tomorrow"
    return f"until {day(last, 'l')}" if days < 7 else f"until {day(last, 'l j F')}"

"""Which reminders a patient gets on a day, and when each is due: plain functions over plain data, no database.

- On a day when the plan has ice doses (the default protocol: days 0–2, the sheet's "first 48 hours"), one
  reminder per dose at the patient's ice times, at most three; on the plan's other days, one daily reminder.
- The evening nudge, when the patient wants it, may come on any day of the plan; it goes out only when nothing
  was logged that day, which the caller checks when it is queued and again when it is sent.
- A slot is due from its time of day in the clinic's time zone, for ``LATE_LIMIT``: after a longer outage of the
  clock a morning reminder is not sent in the afternoon.
"""

import datetime
from dataclasses import dataclass

from django.db import models

LATE_LIMIT = datetime.timedelta(hours=1)
MAX_ICE_SLOTS = 3


class Slot(models.TextChoices):
    ICE_1 = "ice-1", "Ice, first dose"
    ICE_2 = "ice-2", "Ice, second dose"
    ICE_3 = "ice-3", "Ice, third dose"
    DAILY = "daily", "Daily"
    EVENING = "evening", "Evening nudge"


ICE_SLOTS = (Slot.ICE_1, Slot.ICE_2, Slot.ICE_3)


@dataclass(frozen=True)
class Times:
    """A patient's reminder times of day; ``evening`` is None when they want no evening nudge."""

    ice: tuple[datetime.time, ...]
    daily: datetime.time
    evening: datetime.time | None


@dataclass(frozen=True)
class Due:
    date: datetime.date
    slot: str
    at: datetime.datetime  # in UTC


def slots_on(times, *, ice_doses):
    """(slot, time of day) of a day of the plan on which ``ice_doses`` ice doses are due."""
    if ice_doses > 0:
        slots = list(zip(ICE_SLOTS, times.ice[: min(ice_doses, MAX_ICE_SLOTS)], strict=False))
    else:
        slots = [(Slot.DAILY, times.daily)]
    if times.evening is not None:
        slots.append((Slot.EVENING, times.evening))
    return slots


def moment(date, time_of_day, tz):
    """The instant (UTC) of a time of day on a date in the clinic's zone. A time that the clocks skip in spring
    falls an hour later; one they repeat in autumn is its first occurrence."""
    return datetime.datetime.combine(date, time_of_day, tzinfo=tz).astimezone(datetime.UTC)


def candidate_dates(now, tz):
    """The clinic dates whose slots may be due at ``now``: today, and yesterday for a slot just before midnight."""
    today = now.astimezone(tz).date()
    return [today - datetime.timedelta(days=1), today]


def is_due(at, now):
    return at <= now < at + LATE_LIMIT


def any_time_due(times, *, now, tz):
    """Whether any of the patient's times of day is due at ``now``: a cheap test before loading their plan."""
    every = [*times.ice, times.daily, *([times.evening] if times.evening is not None else [])]
    return any(is_due(moment(date, t, tz), now) for date in candidate_dates(now, tz) for t in every)


def due_slots(times, *, now, tz, ice_doses_on):
    """The slots due at ``now``. ``ice_doses_on(date)`` gives the ice doses of that day, or None when the plan has
    nothing on that day (before race day): no reminder at all then."""
    due = []
    for date in candidate_dates(now, tz):
        ice_doses = ice_doses_on(date)
        if ice_doses is None:
            continue
        for slot, time_of_day in slots_on(times, ice_doses=ice_doses):
            at = moment(date, time_of_day, tz)
            if is_due(at, now):
                due.append(Due(date=date, slot=slot, at=at))
    return due

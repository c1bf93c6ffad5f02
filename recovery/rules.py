"""The rules of a recovery plan, as plain functions over plain data: no database, no request, no clock.

Every page and report asks these functions, so the patient's checklist, their progress page and the clinician's
list always agree:

- what is due on a day: the step's day window, its doses per day or "N times a week" cadence, and its gate
  (pain at most N, judged on the latest check-in on or before that day, which must also report no warning sign;
  or a clinician's clearance);
- the phase of recovery on a day, the day a phase starts, and the road ahead (every phase, past, current or
  ahead, with what it adds and waits for);
- adherence, doses done ÷ doses due. A dose counts as missed only once it can no longer be made up: today's
  doses are not missed while today lasts, and a "3 times a week" session only once too few days are left in
  its week, as the week looked when that day ended: a day off, a pause or a stopped step that comes later shortens
  what the week still asks, never turns an earlier day into a missed one. A locked step is not due. An excused day
  (e.g. ill) is left out entirely: it freezes the score; so
  is a day the clinician has the plan on hold (paused), and a day before the patient joined the portal that they
  did not fill in;
- the streak: days in a row on which everything due was done.

Day numbers count from race day, day 0. Weeks of a "N times a week" step count from the step's first day; a step
tailored in mid-week keeps its week, so the sessions already done that week still count. A step's last week of
three days or fewer joins the week before (days 7-14: one week of eight days, not a lone day 14 that asks for a
fourth session).
"""

import bisect
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from recovery.safety import StandingStop, Thresholds, at_stop_level

ONE_DAY = datetime.timedelta(days=1)
# How far back a patient may still fill in their checklist: yesterday and the day before.
DAYS_BACK_EDITABLE = 2
# Plan steps that the safety features know by their stable key (the default protocol's keys).
CHECK_IN_STEP_KEY = "check-in"
COMPRESSION_STEP_KEY = "compression"


class Gate:
    NONE = "none"
    PAIN = "pain"
    CLEARANCE = "clearance"


@dataclass(frozen=True)
class StepRule:
    """One version of a plan step: what to do, when, and what unlocks it."""

    key: str
    label: str
    position: int
    first_day: int
    last_day: int | None = None
    doses_per_day: int = 1
    times_per_week: int | None = None
    gate: str = Gate.NONE
    gate_pain_max: int | None = None
    valid_from: datetime.date | None = None  # the version is in force from this date...
    valid_until: datetime.date | None = None  # ...until the day before this one
    # What a page needs to show the step (its id, instruction, tip); the rules look at it only to tell whether a
    # new version reads differently (``reads_differently``).
    ref: object = field(default=None, compare=False, repr=False)

    @property
    def is_weekly(self):
        return self.times_per_week is not None

    @property
    def daily_target(self):
        return 1 if self.is_weekly else self.doses_per_day

    @property
    def how_often(self):
        """In plain words: "once a day", "3 times a day", "up to 3 times a week" ("up to": a step's first or last
        week with fewer days open asks for fewer, as the checklist counts them)."""
        if self.is_weekly:
            times = self.times_per_week
            return {1: "once a week", 2: "up to twice a week"}.get(times, f"up to {times} times a week")
        return "once a day" if self.doses_per_day == 1 else f"{self.doses_per_day} times a day"

    def in_force_on(self, date):
        return (self.valid_from is None or self.valid_from <= date) and (
            self.valid_until is None or date < self.valid_until
        )

    def in_window(self, day):
        return self.first_day <= day and (self.last_day is None or day <= self.last_day)


@dataclass(frozen=True)
class PhaseRule:
    name: str
    position: int
    first_day: int
    gate: str = Gate.NONE
    gate_pain_max: int | None = None
    # What the patient reads of the phase (the clinicians write it); the rules never look at it.
    description: str = field(default="", compare=False, repr=False)


@dataclass
class PlanFacts:
    """Everything the rules need to know about one plan, loaded in a few queries (see ``recovery.facts``)."""

    race_date: datetime.date
    steps: list[StepRule]
    phases: list[PhaseRule] = field(default_factory=list)
    cleared_on: datetime.date | None = None
    pain_by_date: Mapping[datetime.date, int] = field(default_factory=dict)
    # The latest pain score recorded before the first date in ``pain_by_date`` was loaded, if any.
    pain_before: int | None = None
    # The check-ins (dates in ``pain_by_date``) that reported a warning sign (a red flag), and whether the one
    # behind ``pain_before`` did.
    warned_on: frozenset[datetime.date] | set[datetime.date] = frozenset()
    warned_before: bool = False
    done: Mapping[tuple[str, datetime.date], int] = field(default_factory=dict)
    excused: frozenset[datetime.date] | set[datetime.date] = frozenset()
    # The day the patient joined the portal (the plan's enrolment); None: counted from race day.
    joined_on: datetime.date | None = None
    # The day a clinician paused the plan, while it is paused: from then on the plan is on hold.
    paused_on: datetime.date | None = None
    # The days off (in ``excused``) that the end of an earlier pause wrote: on hold, not the patient's choice.
    held: frozenset[datetime.date] | set[datetime.date] = frozenset()
    # The pain score from which a check-in's stop screen tells the patient to stop (the clinic's alert level,
    # SafetyThresholds.alert_pain_from). Facts built without it stop at the default level, never not at all.
    stop_pain_from: int = Thresholds.alert_pain_from

    def __post_init__(self):
        self._pain_dates = sorted(self.pain_by_date)
        self._filled_in = None  # the days with a tick or a check-in, worked out when first needed
        self._stops = {}  # date -> what stop_on said: every gated step asks it of every day scored

    def day_number(self, date):
        return (date - self.race_date).days

    def date_of(self, day):
        return self.race_date + datetime.timedelta(days=day)

    def _latest_check_in(self, date):
        index = bisect.bisect_right(self._pain_dates, date)
        return self._pain_dates[index - 1] if index else None

    def latest_check_in_date(self, date):
        """The day of the latest check-in on or before ``date`` among those loaded, or None (one before them)."""
        return self._latest_check_in(date)

    def latest_pain(self, date):
        """The latest pain score recorded on or before ``date``, or None if there is none."""
        latest = self._latest_check_in(date)
        return self.pain_before if latest is None else self.pain_by_date[latest]

    def warned(self, date):
        """Whether the latest check-in on or before ``date`` reported a warning sign."""
        latest = self._latest_check_in(date)
        return self.warned_before if latest is None else latest in self.warned_on

    def pain_at_stop_level(self, date):
        """Whether the latest pain score on or before ``date`` is at the stop level (the check-in's stop screen)."""
        pain = self.latest_pain(date)
        return pain is not None and at_stop_level(pain, self.stop_pain_from)

    def stop_on(self, date):
        """The stop the latest check-in on or before ``date`` called for, a ``safety.StandingStop`` (a warning sign,
        or pain at the stop level), or None."""
        if date not in self._stops:
            pain = StandingStop.PAIN if self.pain_at_stop_level(date) else None
            self._stops[date] = StandingStop.WARNING if self.warned(date) else pain
        return self._stops[date]

    def count(self, key, date):
        return self.done.get((key, date), 0)

    def untracked(self, date):
        """A day before the patient joined that they did not fill in: nothing could be asked of them then, so it
        is neither due nor missed. A day they filled in afterwards (the checklist reaches two days back) counts."""
        if self.joined_on is None or date >= self.joined_on:
            return False
        if self._filled_in is None:
            self._filled_in = {day for (_key, day), count in self.done.items() if count > 0} | set(self.pain_by_date)
        return date not in self._filled_in

    def paused(self, date):
        """Whether the plan is on hold on ``date``: paused now since that day or before, or during a pause since."""
        return (self.paused_on is not None and date >= self.paused_on) or date in self.held

    def as_of(self, last):
        """These facts as they stood when ``last`` ended: what was recorded for a later day left out, and so are
        the step versions from a later date (the one in force on ``last`` carries on, as it would have then).

        A number over days up to ``last`` worked out from them stays put whatever is done after it: a weekly step
        looks ahead to the rest of its week, which a day off, a check-in or a step tailored from today would
        otherwise change."""

        def later(date):
            return date is not None and date > last

        return replace(
            self,
            steps=[
                replace(step, valid_until=None) if later(step.valid_until) else step
                for step in self.steps
                if not later(step.valid_from)
            ],
            cleared_on=None if later(self.cleared_on) else self.cleared_on,
            paused_on=None if later(self.paused_on) else self.paused_on,
            pain_by_date={date: pain for date, pain in self.pain_by_date.items() if not later(date)},
            warned_on=frozenset(date for date in self.warned_on if not later(date)),
            done={(key, date): count for (key, date), count in self.done.items() if not later(date)},
            excused=frozenset(date for date in self.excused if not later(date)),
            held=frozenset(date for date in self.held if not later(date)),
        )


# -- Gates -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    gate: str
    pain_max: int | None = None
    warning: bool = False  # a pain gate closed by a warning sign in the latest check-in, whatever the score
    paused: bool = False  # every step, while a clinician has the plan on hold
    stop_pain: bool = False  # a gated step held while the latest check-in's pain is at the stop level
    no_score: bool = False  # a pain gate closed because no check-in has given a pain score yet

    @property
    def message(self):
        if self.paused and self.gate == Gate.NONE:
            # Rest, ice, drink: "on hold" would read as "the rest from running is on hold".
            return "Keep this up while your plan is paused. There's nothing to tick until it starts again."
        if self.paused:
            return "On hold: your clinician has paused your plan."
        if self.warning:
            # The banner above says whom to call (999, NHS 111 or the clinic): not a second, different number here.
            return (
                "On hold because of a warning sign: follow the advice at the top of the page. It opens after a "
                "check-in without one."
            )
        if self.stop_pain:
            return (
                "On hold because of your pain score: follow the advice at the top of the page. It opens after a "
                "check-in with less pain."
            )
        if self.gate == Gate.PAIN and self.no_score:
            # Not "once your pain is 3/10 or less" to someone who has not told us any pain yet.
            return f"Unlocks after a check-in, once your pain is {self.pain_max}/10 or less."
        if self.gate == Gate.PAIN:
            return f"Unlocks once your pain is {self.pain_max}/10 or less."
        return "Unlocks once your clinician clears you to run."


def gate_lock(gate, gate_pain_max, facts, date):
    """The lock keeping a step or phase closed on ``date``, or None when it is open."""
    if gate == Gate.PAIN:
        # A red flag means "stop loading the hip and call the clinic" (the stop screen): the pain-gated steps,
        # the loading exercises, close whatever the score, until a check-in without one (CLINICAL.md).
        if facts.warned(date):
            return Lock(Gate.PAIN, gate_pain_max, warning=True)
        pain = facts.latest_pain(date)
        if pain is None:
            return Lock(Gate.PAIN, gate_pain_max, no_score=True)
        if pain > gate_pain_max:
            return Lock(Gate.PAIN, gate_pain_max)
    elif gate == Gate.CLEARANCE:
        if facts.cleared_on is None or facts.cleared_on > date:
            return Lock(Gate.CLEARANCE)
    return None


def step_lock(step, facts, date):
    """The lock keeping a step (a ``StepRule``) closed on ``date``, or None when it is open: its gate's, and for
    any gated step the stop the latest check-in called for (a warning sign, or pain at the stop level), said in
    the words of the page's banner. A pain gate's limit sits below the stop level in the clinic's protocol, but
    running, its warm-up and its strength work, opened by the sign-off, have no pain limit of their own
    (CLINICAL.md: "above 5 stop"; a stress fracture missed in a runner back to running can displace)."""
    if step.gate == Gate.NONE:  # most steps, on every day scored: asked first
        return None
    lock = gate_lock(step.gate, step.gate_pain_max, facts, date)
    if lock is not None and lock.gate == Gate.CLEARANCE:
        return lock  # no sign-off yet, which no check-in can change
    stop = facts.stop_on(date)
    if stop is None:
        return lock
    # Not "Unlocks once your pain is 3/10 or less" under a banner that says stop and call the clinic.
    return Lock(
        step.gate, step.gate_pain_max, warning=stop == StandingStop.WARNING, stop_pain=stop == StandingStop.PAIN
    )


# -- What is on the plan on a day ----------------------------------------------------------------------------------


def steps_on(facts, date):
    """The step versions in force on ``date`` whose day window includes it, in plan order."""
    day = facts.day_number(date)
    if day < 0:
        return []
    steps = [step for step in facts.steps if step.in_force_on(date) and step.in_window(day)]
    return sorted(steps, key=lambda step: step.position)


def phase_on(facts, date):
    """The furthest phase whose first day has come and whose entry gate is open; None before race day."""
    day = facts.day_number(date)
    current = None
    for phase in sorted(facts.phases, key=lambda phase: phase.position):
        if phase.first_day <= day and gate_lock(phase.gate, phase.gate_pain_max, facts, date) is None:
            current = phase
    return current


def phase_starting_on(facts, date):
    """The phase the patient moves on to on ``date`` (its first day came, or its gate opened), or None. A phase
    closed again by a pain gate is not news: falling back to an earlier phase is not announced."""
    phase = phase_on(facts, date)
    before = phase_on(facts, date - ONE_DAY)
    if phase is not None and (before is None or phase.position > before.position):
        return phase
    return None


# A step's last week this short or shorter joins the week before.
SHORT_LAST_WEEK = 3
# How far before a day its week can begin (a week with a short last week joined to it): the facts a day's
# checklist or score needs start this far back.
WEEK_REACH = datetime.timedelta(days=6 + SHORT_LAST_WEEK)


def _week_bounds(step, date, facts):
    """First and last dates of the step's week that holds ``date``: seven days counted from the step's first day,
    ending at its last day; a short last week is one with the week before (``SHORT_LAST_WEEK``)."""
    day = facts.day_number(date)
    week_start_day = step.first_day + (day - step.first_day) // 7 * 7
    week_end_day = week_start_day + 6
    if step.last_day is not None:
        if week_start_day > step.first_day and step.last_day - week_start_day < SHORT_LAST_WEEK:
            # The short last week itself joins the week before, if that week was planned to end with it too: a
            # step shortened today must not reopen a week already over and scored under the version before.
            before = _weekly_version_on(step, facts, facts.date_of(week_start_day - 1))
            if before is not None and before.last_day == step.last_day:
                week_start_day -= 7
        elif 0 < step.last_day - week_end_day <= SHORT_LAST_WEEK:
            week_end_day = step.last_day  # the week before it
        week_end_day = min(week_end_day, step.last_day)
    return facts.date_of(week_start_day), facts.date_of(week_end_day)


def _dates(first, last):
    date = first
    while date <= last:
        yield date
        date += ONE_DAY


def _weekly_version_on(step, facts, date):
    """The weekly version of the step (same key) in force on ``date`` with the day in its window, or None.

    A step tailored in mid-week keeps its week: the days and sessions under its other versions count too.
    """
    day = facts.day_number(date)
    if step.in_force_on(date) and step.in_window(day):
        return step
    for other in facts.steps:
        if other.key == step.key and other.is_weekly and other.in_force_on(date) and other.in_window(day):
            return other
    return None


def _is_active_day(step, facts, date, today):
    """Could the step be done on ``date``? Future days are assumed open (their pain is not known yet), unless the
    plan is on hold. A day before the patient joined is not, unless they filled it in: a late joiner's first week
    asks only for the sessions its days left can hold."""
    if date in facts.excused or facts.paused(date) or facts.untracked(date):
        return False
    version = _weekly_version_on(step, facts, date)
    if version is None:
        return False
    if date > today:
        return True
    return step_lock(version, facts, date) is None


@dataclass(frozen=True)
class _Week:
    """One week of a weekly step, as seen on ``today``."""

    first: datetime.date
    last: datetime.date
    active: tuple[datetime.date, ...]  # the days the step could be done, in order
    ticked: tuple[datetime.date, ...]  # the active days with a session ticked, in order
    times_per_week: int
    quota: int


def _week(step, facts, date, today, memo=None):
    """The step's week holding ``date``. ``memo`` keeps the weeks already worked out during one call."""
    first, last = _week_bounds(step, date, facts)
    seen = (id(step), first)
    if memo is not None and seen in memo:
        return memo[seen]
    active = tuple(day for day in _dates(first, last) if _is_active_day(step, facts, day, today))
    ticked = tuple(day for day in active if facts.count(step.key, day) > 0)
    week = _Week(
        first=first,
        last=last,
        active=active,
        ticked=ticked,
        times_per_week=step.times_per_week,
        quota=min(step.times_per_week, len(active)),
    )
    if memo is not None:
        memo[seen] = week
    return week


@dataclass(frozen=True)
class WeekTally:
    quota: int  # sessions asked for this week: N, or fewer when fewer days are available
    done: int  # sessions done this week, up to the quota
    # The week's last day: weeks count from each step's first day, so the patient is told when this one ends.
    last: datetime.date | None = field(default=None, compare=False)


def week_tally(step, facts, date, today):
    week = _week(step, facts, date, today)
    return WeekTally(quota=week.quota, done=min(len(week.ticked), week.quota), last=week.last)


def _weekly_missed_through(week, date, *, day_closed):
    """Sessions of the week that can no longer be made up once ``date`` is over (or, if not, as it begins), as
    the week looked then: its days after ``date`` were all still to come. A day off, a pause or a stop later in
    the week asks less of the week; it never makes ``date`` a day with a missed session."""
    ticked = bisect.bisect_right(week.ticked, date)
    days_after = max(0, (week.last - date).days)
    quota = min(week.times_per_week, bisect.bisect_right(week.active, date) + days_after)
    still_available = days_after
    if not day_closed and date in week.active and date not in week.ticked:
        still_available += 1
    return max(0, quota - min(ticked, quota) - still_available)


@dataclass(frozen=True)
class DayScore:
    due: int
    done: int

    @property
    def complete(self):
        return self.due > 0 and self.done >= self.due


def score_day(facts, date, today, *, day_closed=None):
    """Doses due and done on ``date``. A day that is not over (today) counts only what can no longer be made up.

    ``day_closed`` defaults to "the day is over" for past days and "not yet" for today; passing True asks
    whether today would be complete if it ended now (the streak's question).
    """
    return _score_day(facts, date, today, day_closed=day_closed, memo={})


def _score_day(facts, date, today, *, day_closed, memo):
    if day_closed is None:
        day_closed = date < today
    if date > today or date in facts.excused or facts.paused(date) or facts.untracked(date):
        return DayScore(0, 0)
    # The streak, both adherences and the calendar ask about the same past days: each is scored once per memo.
    seen = ("day", date, day_closed)
    if seen not in memo:
        memo[seen] = _score_open_day(facts, date, today, day_closed=day_closed, memo=memo)
    return memo[seen]


def _score_open_day(facts, date, today, *, day_closed, memo):
    due = done = 0
    for step in steps_on(facts, date):
        if step_lock(step, facts, date) is not None:
            continue
        count = facts.count(step.key, date)
        if count == 0 and _never_askable(step, facts, date):
            continue
        if step.is_weekly:
            week = _week(step, facts, date, today, memo)
            ticked = 1 if count > 0 and _session_counts(week, date) else 0
            missed_now = _weekly_missed_through(week, date, day_closed=day_closed)
            missed_before = _weekly_missed_before(step, facts, week, date, today, memo)
            due += ticked + max(0, missed_now - missed_before)
            done += ticked
        else:
            capped = min(count, step.doses_per_day)
            due += step.doses_per_day if day_closed else capped
            done += capped
    return DayScore(due, done)


def _never_askable(step, facts, date):
    """The check-in of a day before the patient joined: it is only ever taken on the day itself, so a day filled in
    afterwards from the checklist's reach could never have it, and it is not counted missed (it was: the honest
    patient who ticked race day's rest scored 1/2 where one who left it empty scored nothing against them)."""
    return step.key == CHECK_IN_STEP_KEY and facts.joined_on is not None and date < facts.joined_on


def _session_counts(week, date):
    """A weekly session counts toward the quota unless the quota was already met earlier that week."""
    earlier = bisect.bisect_left(week.ticked, date)
    return earlier < week.quota


def _weekly_missed_before(step, facts, week, date, today, memo):
    """The sessions of the week already counted missed on the days before ``date``. Within one version of the
    step that is the count of the day before (it never falls from day to day). Across a change mid-week it is the
    most any earlier day counted, each in the week of the version it was scored under: a new last day moves the
    week's end, and a session must be counted neither twice nor not at all."""
    if date == week.first:
        return 0
    yesterday = date - ONE_DAY
    if not _tailored_mid_week(step, facts, memo):
        return _weekly_missed_through(week, yesterday, day_closed=True)
    most, day = 0, week.first
    while day <= yesterday:
        version = _weekly_version_on(step, facts, day)
        frame = week
        if version is not None and version is not step:
            earlier = _week(version, facts, day, today, memo)
            frame = earlier if earlier.first == week.first else week
        most = max(most, _weekly_missed_through(frame, day, day_closed=True))
        day += ONE_DAY
    return most


def _tailored_mid_week(step, facts, memo):
    """Whether the step has more than one weekly version (the rare case ``_weekly_missed_before`` walks)."""
    seen = ("versions", step.key)
    if seen not in memo:
        memo[seen] = sum(1 for other in facts.steps if other.key == step.key and other.is_weekly) > 1
    return memo[seen]


# -- The checklist -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One line of a day's checklist."""

    step: StepRule
    done: int
    target: int
    lock: Lock | None
    week: WeekTally | None
    new: bool = False  # the step's first day: the checklist points it out
    # A version of the step that was on the plan yesterday starts today, and reads differently: pointed out too.
    updated: bool = False
    was: StepRule | None = None  # when updated, yesterday's version: the page says what changed in how often

    @property
    def key(self):
        return self.step.key

    @property
    def is_check_in(self):
        """Ticked by the day's check-in, not by a button of its own."""
        return self.step.key == CHECK_IN_STEP_KEY

    @property
    def asks_about_numbness(self):
        """Compression is ticked with an answer: any tingling or numbness (CLINICAL.md: take it off at once)."""
        return self.step.key == COMPRESSION_STEP_KEY

    @property
    def _week_done(self):
        return self.week is not None and 0 < self.week.quota <= self.week.done

    @property
    def week_met(self):
        """A weekly step whose sessions this week are all done, with none today: nothing more is asked today."""
        return self._week_done and not self.done

    @property
    def complete(self):
        return self._week_done or self.done >= self.target


def open_on_hold(step_key):
    """Whether a paused plan keeps the step open: only the check-in, since the clinic still wants to hear how the
    hip feels while the exercises are on hold."""
    return step_key == CHECK_IN_STEP_KEY


def tasks_on(facts, date, today):
    """The checklist of ``date``: every step on the plan that day, locked ones included (with the reason)."""
    tasks = []
    day = facts.day_number(date)
    paused = facts.paused(date)
    for step in steps_on(facts, date):
        held = Lock(step.gate, paused=True) if paused and not open_on_hold(step.key) else None
        lock = held or step_lock(step, facts, date)
        week = week_tally(step, facts, date, today) if step.is_weekly else None
        done = min(facts.count(step.key, date), step.daily_target)
        was = None
        if step.valid_from == date:
            was = next((other for other in steps_on(facts, date - ONE_DAY) if other.key == step.key), None)
        on_yesterday = was is not None
        new = (day > 0 and date == _opens_on(step.first_day, step.gate, facts)) or (
            step.valid_from == date and not on_yesterday
        )
        updated = on_yesterday and not new and reads_differently(step, was)
        tasks.append(
            Task(
                step=step,
                done=done,
                target=step.daily_target,
                lock=lock,
                week=week,
                new=new,
                updated=updated,
                was=was if updated else None,
            )
        )
    return tasks


# What the patient reads or does of a step. A new version that changes none of it (a step moved in the list, a
# version restored to the very words it had) is no news: "Updated" on it would send them looking for a change.
SEEN_FIELDS = ("label", "first_day", "last_day", "doses_per_day", "times_per_week", "gate", "gate_pain_max")
SEEN_REF_FIELDS = ("instruction", "tip_title")  # read from the page's side of the step (``StepRule.ref``)


def reads_differently(step, was):
    """Whether ``step`` differs from the version ``was`` in anything the patient reads or does."""
    if any(getattr(step, name) != getattr(was, name) for name in SEEN_FIELDS):
        return True
    return any(getattr(step.ref, name, None) != getattr(was.ref, name, None) for name in SEEN_REF_FIELDS)


def _opens_on(first_day, gate, facts):
    """The day a step or phase begins: its first day; for one waiting for the sign-off, the later of that and the
    sign-off (the running steps are news on the day they open, not on day 21 behind a lock); None before it."""
    first = facts.date_of(first_day)
    if gate != Gate.CLEARANCE:
        return first
    return None if facts.cleared_on is None else max(first, facts.cleared_on)


def is_editable(date, today):
    """May the patient still change ``date``: today and the two days before it (no arithmetic on ``date``, so a
    posted 0001-01-01 is simply refused)."""
    return today - datetime.timedelta(days=DAYS_BACK_EDITABLE) <= date <= today


def tick_problem(facts, key, date, count, today, *, shown=None):
    """Why a tick of ``count`` doses of ``key`` on ``date`` is refused, in plain words; None when it is fine.

    ``shown``: the count of doses done that the page showed when it was tapped (None: not known)."""
    return tick_check(facts, key, date, count, today, shown=shown)[0]


def tick_check(facts, key, date, count, today, *, shown=None):
    """(why the tick is refused in plain words or None, the task ticked or None)."""
    if date > today:
        return "You can't tick off a day that hasn't happened yet.", None
    if date < today - datetime.timedelta(days=DAYS_BACK_EDITABLE):
        return "That day is too far back to change. You can fill in today and the two days before.", None
    task = next((task for task in tasks_on(facts, date, today) if task.key == key), None)
    if task is None:
        return "That task isn't on your plan for that day.", None
    # A locked task can still be undone: a high pain score later that day must not keep a mistaken tick.
    if task.lock is not None and count > task.done:
        return task.lock.message, task
    # A page never offers more than the task asks: one that does (still "1 of 3" after the clinic made the task once
    # a day) was opened before the change. Not "Choose a number from 0 to 1" to a patient who chose no number.
    if shown is not None and max(count, shown) > task.target:
        action = "ticked" if count > shown else "undone"
        return (
            f"The clinic has changed this task since this page was opened: it is now {task.step.how_often}. "
            f"Nothing was {action}.",
            task,
        )
    if changed_since_shown(task, count, shown):
        return changed_message(task), task
    if not 0 <= count <= task.target:
        return f"Choose a number from 0 to {task.target}.", task
    return None, task


def changed_since_shown(task, count, shown):
    """Whether a tick sent from a page that showed ``shown`` doses done was made from a count no longer true (a
    phone ticked meanwhile, and the laptop left open still shows the old count): writing its count would lose the
    phone's dose, or an "Undo one" wipe them all. A count already stored is not a change: the second tap of a double
    tap (or a retried request) sends what the first one wrote, and is harmless."""
    return shown is not None and shown != task.done and count != task.done


def changed_message(task):
    """What a tick refused by ``changed_since_shown`` says: the count now, and that nothing was lost."""
    if task.target > 1:
        now = f"{task.done} of {task.target} done now"
    else:
        now = "it is marked as done now" if task.done else "it is not marked as done now"
    return f"This changed on another device: {now}. Tap again if you meant to change it."


# -- Adherence and streak -----------------------------------------------------------------------------------------


def adherence(facts, first, last, today, *, memo=None):
    """Doses done ÷ doses due from ``first`` to ``last`` (inclusive), or None when nothing was due on a day that is
    over.

    ``memo`` (a dict) shares the days already scored with other questions about the same facts and today."""
    first = max(first, facts.race_date)
    last = min(last, today)
    due = done = due_on_days_over = 0
    memo = {} if memo is None else memo
    for date in _dates(first, last):
        score = _score_day(facts, date, today, day_closed=None, memo=memo)
        due += score.due
        done += score.done
        if date < today:
            due_on_days_over += score.due
    # Today counts only what can no longer be made up, so on its own it would read 100% after a single tick: a
    # share needs a day that is over (a patient's first day shows none yet).
    return done / due if due_on_days_over else None


def percent(share):
    """An adherence as the whole percentage every page shows (and the patients list stores), or None."""
    return None if share is None else round(share * 100)


def streak(facts, today, *, memo=None):
    """Days in a row, up to today, on which everything due was done. Excused days and empty days are skipped.

    Today joins the streak once it is complete; until then the streak runs to yesterday.
    """
    days = 0
    memo = {} if memo is None else memo
    if _score_day(facts, today, today, day_closed=True, memo=memo).complete and today not in facts.excused:
        days = 1
    date = today - ONE_DAY
    while date >= facts.race_date:
        if date not in facts.excused:
            score = _score_day(facts, date, today, day_closed=None, memo=memo)
            if score.due == 0:
                pass
            elif score.complete:
                days += 1
            else:
                break
        date -= ONE_DAY
    return days


def streak_waits_on_today(facts, today, *, memo=None):
    """Whether finishing today's tasks would add today to the streak: something is due and not all of it is done
    yet, on a day that is neither a day off nor on hold. (The streak runs to yesterday until then, and drops
    overnight if today stays unfinished: the patient is told before, not after.)"""
    if today in facts.excused or facts.paused(today):
        return False
    score = _score_day(facts, today, today, day_closed=True, memo={} if memo is None else memo)
    return score.due > 0 and not score.complete


# -- The calendar ---------------------------------------------------------------------------------------------------


class Level:
    FULL = "full"
    PART = "part"
    NONE = "none"
    EXCUSED = "excused"
    PAUSED = "paused"  # the plan on hold by the clinician
    FUTURE = "future"
    BEFORE = "before"
    UNTRACKED = "untracked"  # before the patient joined, and not filled in since
    REST = "rest"  # nothing was due


def day_level(facts, date, today):
    """How a calendar square is coloured."""
    return _day_level(facts, date, today, memo={})


def _day_level(facts, date, today, *, memo):
    if date < facts.race_date:
        return Level.BEFORE
    if date > today:
        return Level.FUTURE
    if facts.paused(date):  # before the days off: a finished pause's days are days off too
        return Level.PAUSED
    if date in facts.excused:
        return Level.EXCUSED
    if facts.untracked(date):
        return Level.UNTRACKED
    score = _score_day(facts, date, today, day_closed=True, memo=memo)
    if score.due == 0:
        return Level.REST
    if score.done >= score.due:
        return Level.FULL
    return Level.PART if score.done else Level.NONE


def calendar(facts, today, weeks=4, *, memo=None):
    """The last ``weeks`` weeks ending on the week that holds today, Monday first, as (date, level) rows."""
    last = today + datetime.timedelta(days=6 - today.weekday())
    first = last - datetime.timedelta(days=7 * weeks - 1)
    memo = {} if memo is None else memo
    days = [(date, _day_level(facts, date, today, memo=memo)) for date in _dates(first, last)]
    return [days[index : index + 7] for index in range(0, len(days), 7)]


def last_days(today, count):
    """The ``count`` days ending today, oldest first."""
    return [today - datetime.timedelta(days=back) for back in reversed(range(count))]


def pain_series(pain_by_date: Mapping[datetime.date, int], dates: Iterable[datetime.date]):
    """The recorded pain scores on the given dates, oldest first, skipping days without a check-in."""
    return [(date, pain_by_date[date]) for date in dates if date in pain_by_date]


# -- The road ahead -------------------------------------------------------------------------------------------------


class Stage:
    PAST = "past"
    CURRENT = "current"
    AHEAD = "ahead"


@dataclass(frozen=True)
class PhaseStop:
    """One phase on the patient's road: when it starts, whether they are there, what it brings and waits for."""

    phase: PhaseRule
    first_date: datetime.date
    first_day: int  # the day number of ``first_date``: the phase's own, or later for one begun by a sign-off
    stage: str
    new_steps: tuple[str, ...]  # labels of the steps starting during a phase still ahead, in plan order
    lock: Lock | None  # what a phase still ahead waits for besides its first day, as things stand today
    # The current phase's steps still to start after today, as (label, first day): announced nowhere else until
    # their day (the early phase's clamshells and cross-training start on day 7).
    coming: tuple[tuple[str, int], ...] = ()


def road_ahead(facts, today):
    """Every phase of the plan in order, marked past, current or ahead of ``today`` (the phase of ``phase_on``)."""
    phases = sorted(facts.phases, key=lambda phase: phase.position)
    current = phase_on(facts, today)
    stops = []
    for index, phase in enumerate(phases):
        if current is not None and phase.position < current.position:
            stage = Stage.PAST
        elif current is not None and phase.position == current.position:
            stage = Stage.CURRENT
        else:
            stage = Stage.AHEAD
        new_steps, lock, coming = (), None, ()
        last_day = phases[index + 1].first_day - 1 if index + 1 < len(phases) else None
        if stage == Stage.AHEAD:
            new_steps = tuple(label for label, _day in _steps_starting(facts, phase.first_day, last_day))
            lock = gate_lock(phase.gate, phase.gate_pain_max, facts, today)
        elif stage == Stage.CURRENT:
            coming = _steps_starting(facts, facts.day_number(today) + 1, last_day)
        first_date = facts.date_of(phase.first_day)
        if stage != Stage.AHEAD:  # a phase waiting for the sign-off began with it, as Today announced
            first_date = _opens_on(phase.first_day, phase.gate, facts) or first_date
        stops.append(PhaseStop(phase, first_date, facts.day_number(first_date), stage, new_steps, lock, coming))
    return stops


def _steps_starting(facts, first_day, last_day):
    """(label, first day) of the steps whose first day falls from ``first_day`` to ``last_day`` (None: no end),
    each in the version in force on that first day (a step tailored since shows as the patient will see it)."""
    found = {}
    for step in sorted(facts.steps, key=lambda step: step.position):
        starts = first_day <= step.first_day and (last_day is None or step.first_day <= last_day)
        if starts and step.in_force_on(facts.date_of(step.first_day)):
            found.setdefault(step.key, (step.label, step.first_day))
    return tuple(found.values())

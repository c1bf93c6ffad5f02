"""Bringing a protocol's edited steps to the patients already on it, from tomorrow on.

A plan copies its protocol's steps at enrolment (``services.plan_enrol``), so that a clinician can tailor one
patient's plan without touching anyone else's; an edit of the protocol therefore reaches new enrolments only. When
the clinic changes a step for everyone (a corrected instruction, another dose, a gate), ``protocol_update`` brings
the protocol's steps as they are now to every open plan on it, from tomorrow: a step that differs gets a new
version from tomorrow (the days up to today keep the rules they were done under, as with tailoring), a step new to
the protocol is added, and a step taken out of it is stopped. Left alone: a step a clinician tailored for that
patient (changed, stopped or added: ``PlanStep.tailored``), and a step whose days are over for that patient.
``protocol_pending`` answers the same question without writing, for the page that asks the clinician first.

Why tomorrow, not today: a patient may have ticked a step today already, and ticks are kept by step and day. A
version from today that ended the step sooner (rest from running cut from day 13 to day 3, on day 5) took today's
tick away with it ("3 of 5 done" became "0 of 5"). From tomorrow, nobody's today changes under them; a clinician who
must change one patient's plan today tailors it (``care.plan_step_change``).
"""

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import transaction

from recovery.content_cache import content_changed
from recovery.models import PlanStep, Protocol, RecoveryPlan
from recovery.services import STEP_FIELDS, plan_step_copy

# What a protocol update brings to a plan's step: everything but the key it is matched by.
UPDATED_FIELDS = [name for name in STEP_FIELDS if name != "key"]
# What an update reads of each version of a plan's steps: plain rows, not model instances, since a protocol may
# reach 10,000 plans and 150,000 versions (docs/BENCHMARKS.md).
VERSION_COLUMNS = ["id", "plan_id", "valid_from", "valid_until", "tailored", "key", *UPDATED_FIELDS]
OPEN_STATUSES = [RecoveryPlan.Status.ACTIVE, RecoveryPlan.Status.PAUSED]


def update_starts(today):
    """The first day an update brought on ``today`` changes: tomorrow (see the module's docstring)."""
    return today + datetime.timedelta(days=1)


def open_plans(protocol):
    """The plans an update reaches: active or paused, on ``protocol`` (an instance or its id)."""
    return RecoveryPlan.objects.filter(protocol=protocol, status__in=OPEN_STATUSES)


class Kind:
    CHANGE = "change"
    ADD = "add"
    STOP = "stop"


@dataclass
class StepUpdate:
    """What an update does to one step of the protocol, over all the open plans on it."""

    key: str
    label: str
    kind: str
    source: object | None = None  # the protocol's step as it is now (None for a stop)
    # For a change: each field that differs in some plan, with what the plans have now and how many have it.
    old_values: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    plans: int = 0  # the plans it changes
    tailored: int = 0  # the plans that keep their own version: a clinician tailored this step for them

    def changes(self):
        """(field name, [(what plans have now, how many)], what it becomes) for each changed field, in the form's
        order, as the admin shows them: the most common value now first."""
        rows = []
        for name in UPDATED_FIELDS:
            if name in self.old_values:
                model_field = PlanStep._meta.get_field(name.removesuffix("_id"))
                olds = self.old_values[name].most_common()
                new = getattr(self.source, name)
                shown = _in_words(model_field, [value for value, _count in olds] + [new])
                now = [(shown(value), count) for value, count in olds]
                rows.append((str(model_field.verbose_name), now, shown(new)))
        return rows


def _in_words(model_field, values):
    """How the admin shows ``values`` of a step's field: a choice's label, a tip's title (the tips read in one
    query), "–" for none."""
    names = {}
    if model_field.choices:
        names = dict(model_field.flatchoices)
    elif model_field.is_relation:
        found = model_field.related_model.objects.in_bulk([value for value in values if value is not None])
        names = {pk: str(item) for pk, item in found.items()}
    return lambda value: "–" if value is None else names.get(value, value)


@dataclass(frozen=True)
class _Write:
    kind: str
    plan_id: int
    current: tuple | None  # the plan's version in force when the update starts, a row of VERSION_COLUMNS (None: added)
    source: object | None  # the protocol's step (None for a stop)
    differing: tuple[str, ...] = ()  # for a change: the fields that differ


def _in_force(step, date):
    started = step.valid_from is None or step.valid_from <= date
    return started and (step.valid_until is None or step.valid_until > date)


def _differing(current, source):
    return tuple(name for name in UPDATED_FIELDS if getattr(current, name) != getattr(source, name))


def _over(day, *steps):
    """Whether every given version of the step has ended for a plan on ``day`` (no change would be seen)."""
    return all(step.last_day is not None and step.last_day < day for step in steps)


def _plan_writes(plan, versions_by_key, protocol_steps, starts):
    """What the update from ``starts`` would write to one plan, and what it leaves alone because the key is
    tailored."""
    day = (starts - plan.race_date).days
    writes, tailored = [], []
    for key in sorted(protocol_steps.keys() | versions_by_key.keys()):
        source = protocol_steps.get(key)
        versions = versions_by_key.get(key, [])
        current = next((step for step in versions if _in_force(step, starts)), None)
        if source is not None and current is not None:
            differing = _differing(current, source)
            changes = differing and not _over(day, current, source)
            write = _Write(Kind.CHANGE, plan.pk, current, source, differing) if changes else None
        elif source is not None:
            write = None if _over(day, source) else _Write(Kind.ADD, plan.pk, None, source)
        elif current is not None:
            write = None if _over(day, current) else _Write(Kind.STOP, plan.pk, current, None)
        else:
            write = None
        if write is None:
            continue
        (tailored if any(step.tailored for step in versions) else writes).append(write)
    return writes, tailored


PLANS_PER_CHUNK = 1000  # plans read and written at a time: a clinic of 10,000 stays within a worker's memory


def _survey(protocol, starts, *, apply):
    """A ``StepUpdate`` per step of the protocol that the update from ``starts`` touches; with ``apply``, also its
    writes."""
    protocol_steps = {step.key: step for step in protocol.steps.all()}
    plans = list(open_plans(protocol).only("pk", "race_date"))
    summary, written = {}, False
    for first in range(0, len(plans), PLANS_PER_CHUNK):
        chunk = plans[first : first + PLANS_PER_CHUNK]
        versions = PlanStep.objects.filter(plan__in=chunk).order_by("plan_id", "key", "valid_from")
        versions = versions.values_list(*VERSION_COLUMNS, named=True)
        if apply:  # a clinician tailoring one of these plans at the same moment waits, then sees the update
            versions = versions.select_for_update()
        by_plan = defaultdict(lambda: defaultdict(list))
        for step in versions:
            by_plan[step.plan_id][step.key].append(step)
        writes = []
        for plan in chunk:
            plan_writes, tailored = _plan_writes(plan, by_plan[plan.pk], protocol_steps, starts)
            writes += plan_writes
            for write in plan_writes:
                update = _summary_of(summary, write)
                update.plans += 1
                for name in write.differing:
                    update.old_values[name][getattr(write.current, name)] += 1
            for write in tailored:
                _summary_of(summary, write).tailored += 1
        if apply and writes:
            _write(writes, starts)
            written = True
    if written:
        content_changed()  # set-based writes send no signals: the cached plan steps must be read again
    order = {key: step.position for key, step in protocol_steps.items()}
    return sorted(summary.values(), key=lambda update: (order.get(update.key, 1_000), update.key))


def _summary_of(summary, write):
    step = write.source or write.current
    if step.key not in summary:
        summary[step.key] = StepUpdate(key=step.key, label=step.label, kind=write.kind, source=write.source)
    return summary[step.key]


def _write(writes, starts):
    ended, gone, new_versions = [], [], []
    # A version from ``starts`` (an earlier update the same day) takes the protocol's step in place, by step.
    rewritten = defaultdict(list)
    for write in writes:
        starts_then = write.current is not None and write.current.valid_from == starts
        if write.kind == Kind.STOP:
            (gone if starts_then else ended).append(write.current.id)  # not begun yet: no history of it to keep
        elif write.kind == Kind.CHANGE and starts_then:
            rewritten[write.source].append(write.current.id)
        else:
            if write.kind == Kind.CHANGE:
                ended.append(write.current.id)
            new_versions.append(plan_step_copy(write.source, plan_id=write.plan_id, valid_from=starts))
    # Ended versions first: a version from ``starts`` may only follow one that ends then.
    PlanStep.objects.filter(pk__in=ended).update(valid_until=starts)
    for source, ids in rewritten.items():
        PlanStep.objects.filter(pk__in=ids).update(**{name: getattr(source, name) for name in UPDATED_FIELDS})
    PlanStep.objects.filter(pk__in=gone).delete()
    PlanStep.objects.bulk_create(new_versions, batch_size=PLANS_PER_CHUNK)


def protocol_pending(*, protocol, today):
    """What ``protocol_update`` would do if brought on ``today``, step by step (``StepUpdate``s), without writing
    anything."""
    return _survey(protocol, update_starts(today), apply=False)


@transaction.atomic
def protocol_update(*, protocol, today):
    """Bring the protocol's steps to every open plan on it from the day after ``today`` (see the module's
    docstring).

    Returns the ``StepUpdate``s done. A second update the same day finds nothing left to do.
    """
    # One update of a protocol at a time (a double click sends two): the second waits here, and its reads below
    # then see the first one's new versions. Locking the plans' steps alone would not do: a statement that waited
    # for them still misses the rows inserted meanwhile, and would add each step a second time.
    Protocol.objects.select_for_update().get(pk=protocol.pk)
    return _survey(protocol, update_starts(today), apply=True)

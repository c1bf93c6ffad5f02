"""The clinical safety rules of a daily check-in, as plain functions over plain data: no database, no request.

- The pain traffic light (Silbernagel's pain-monitoring model, CLINICAL.md): below the ease-off level carry on
  (green), from it ease off (amber), from the alert level stop loading and call the clinic (red).
- The stop screen: any red flag, or pain at or above the alert level.
- The alerts a check-in raises, each with its reason in plain words for the clinician:
  a red flag (urgent), high pain (high), numbness or tingling in the leg (high), and pain rising by the
  configured points over the average of the scores recorded in the previous three days (watch; only when at
  least one of those days has a score).

The levels come from the clinic's safety record (``SafetyThresholds``), passed in by the caller: anything with
the attributes of ``Thresholds`` will do, the model included.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

# How many days before the check-in make up the "recent average" of the rising-pain rule.
RISE_WINDOW_DAYS = 3


@dataclass(frozen=True)
class Thresholds:
    ease_off_pain_from: int = 4
    alert_pain_from: int = 6
    pain_rise_points: int = 2


class Light:
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Kind:
    """The alert kinds a check-in or a tick can raise; the same values as ``Alert.Kind``."""

    RED_FLAG = "red_flag"
    HIGH_PAIN = "high_pain"
    RISING_PAIN = "rising_pain"
    NUMBNESS = "numbness"
    COMPRESSION_NUMBNESS = "compression_numbness"


class Severity:
    """The same values as ``Alert.Severity``."""

    WATCH = 1
    HIGH = 2
    URGENT = 3


# The kinds a check-in decides; editing the day's check-in revisits exactly these.
CHECK_IN_KINDS = (Kind.RED_FLAG, Kind.HIGH_PAIN, Kind.NUMBNESS, Kind.RISING_PAIN)


@dataclass(frozen=True)
class AlertDecision:
    kind: str
    severity: int
    reason: str


def at_stop_level(pain, alert_pain_from):
    """Pain at which the patient is told to stop (the stop screen, and the checklist's hold while it stands)."""
    return pain >= alert_pain_from


def pain_light(pain, thresholds):
    """The traffic light for a pain score: green, amber or red."""
    if at_stop_level(pain, thresholds.alert_pain_from):
        return Light.RED
    if pain >= thresholds.ease_off_pain_from:
        return Light.AMBER
    return Light.GREEN


def must_stop(pain, red_flags, thresholds):
    """Whether the patient must see the stop screen: any red flag, or pain at or above the alert level."""
    return bool(red_flags) or pain_light(pain, thresholds) == Light.RED


class StandingStop:
    """Why the stop screen of the latest check-in still stands (the checklist repeats it until a check-in without)."""

    WARNING = "warning"  # a warning sign
    PAIN = "pain"  # pain at or above the alert level


class Urgency:
    """What the stop screen puts first."""

    EMERGENCY = "emergency"  # call 999 or go to A&E now
    URGENT_CARE = "urgent_care"  # get urgent care today
    CLINIC = "clinic"  # stop loading the hip and call the clinic


# The red-flag questions (``CheckIn`` field names) that point to an emergency rather than a call to the clinic.
HYPONATRAEMIA_FLAG = "confusion_vomiting_headache"  # exercise-associated hyponatraemia (Goudie 2006)
RHABDOMYOLYSIS_FLAG = "cola_coloured_urine"  # exertional rhabdomyolysis
NERVE_FLAG = "bladder_or_bowel_change"  # nerve involvement (CLINICAL.md); the NHS sends it to A&E the same hour
# Signs of a fracture, a femoral neck stress fracture among them (CLINICAL.md: a missed one can displace): the patient
# is told to keep weight off the leg until the clinic has spoken to them, before the plan's "gentle walking is fine".
FRACTURE_FLAGS = ("groin_pain_on_weight", "night_pain", "cannot_bear_weight", "fall_or_knock")


def urgency(red_flag_fields):
    """The most urgent advice the answers call for: confusion, vomiting or a worsening headache after a marathon,
    or new trouble controlling the bladder or bowels, is an emergency; cola-coloured urine needs urgent care the
    same day; anything else, the clinic."""
    if HYPONATRAEMIA_FLAG in red_flag_fields or NERVE_FLAG in red_flag_fields:
        return Urgency.EMERGENCY
    if RHABDOMYOLYSIS_FLAG in red_flag_fields:
        return Urgency.URGENT_CARE
    return Urgency.CLINIC


def stop_advice(red_flag_fields):
    """What the stop screen, and Today's banner after it, say of the red flags answered yes: how urgent (``urgency``)
    and which of its specific warnings apply."""
    return {
        "urgency": urgency(red_flag_fields),
        "hyponatraemia": HYPONATRAEMIA_FLAG in red_flag_fields,  # "Do not drink extra water."
        "nerve": NERVE_FLAG in red_flag_fields,
        "off_the_leg": any(flag in red_flag_fields for flag in FRACTURE_FLAGS),  # "Keep your weight off the leg"
    }


# What the stop screen told the patient to do, as the clinician's alert repeats it (the clinic knows what was said).
ADVICE_GIVEN = {
    Urgency.EMERGENCY: "to call 999 or go to A&E now",
    Urgency.URGENT_CARE: "to get urgent medical care today (an urgent treatment centre, or NHS 111)",
    Urgency.CLINIC: "to stop loading the hip and call the clinic",
}


def advice_given(red_flag_fields):
    """The stop screen's advice for these red flags, in a sentence for the clinician: "They were told to …"."""
    advice = stop_advice(red_flag_fields)
    told = ADVICE_GIVEN[advice["urgency"]]
    if advice["hyponatraemia"]:
        told += ", and not to drink extra water"
    if advice["off_the_leg"]:
        told += ", and to keep weight off the leg until the clinic has spoken to them"
    return f"They were told {told}."


def _number(value):
    """3.0 as "3", 3.3333 as "3.3": how a person would say an average."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def rises_enough(pain, previous_scores, points):
    """Pain minus the recent average is at least ``points``. Whole numbers only, so no rounding can tip it."""
    if not previous_scores:
        return False
    return pain * len(previous_scores) - sum(previous_scores) >= points * len(previous_scores)


def check_in_alerts(
    *, pain, red_flags: Sequence[str], previous_scores: Sequence[int], thresholds, numbness: bool = False, advice=""
):
    """The alerts a check-in raises, most urgent first.

    ``red_flags``: the red-flag questions answered yes, in plain words. ``previous_scores``: the pain scores
    recorded on the previous three days (days without a check-in left out). ``numbness``: numbness or tingling
    in the leg since yesterday. ``advice``: what the stop screen told the patient (``advice_given``), for the
    red-flag alert.
    """
    alerts = []
    if red_flags:
        alerts.append(
            AlertDecision(
                Kind.RED_FLAG,
                Severity.URGENT,
                " ".join(filter(None, ["The patient answered yes to: " + "; ".join(red_flags) + ".", advice])),
            )
        )
    if at_stop_level(pain, thresholds.alert_pain_from):
        alerts.append(
            AlertDecision(
                Kind.HIGH_PAIN,
                Severity.HIGH,
                f"Pain {pain}/10, at or above the alert level of {thresholds.alert_pain_from}.",
            )
        )
    if numbness:
        # CLINICAL.md counts numbness or weakness in the leg among the red flags (nerve involvement); most often it
        # is compression worn too tight, which the patient is told to take off. A clinician looks the same day.
        alerts.append(
            AlertDecision(
                Kind.NUMBNESS,
                Severity.HIGH,
                "The patient reported numbness or tingling in the leg in the daily check-in, and was told to take "
                "any compression off and call if it stays or the leg feels weak.",
            )
        )
    if rises_enough(pain, previous_scores, thresholds.pain_rise_points):
        average = sum(previous_scores) / len(previous_scores)
        days = len(previous_scores)
        alerts.append(
            AlertDecision(
                Kind.RISING_PAIN,
                Severity.WATCH,
                f"Pain {pain}/10, up {_number(pain - average)} points on the average of {_number(average)} "
                f"over the previous three days ({days} score{'s' if days != 1 else ''} recorded); "
                f"the alert is set at a rise of {thresholds.pain_rise_points}.",
            )
        )
    return alerts


def compression_numbness_alert():
    """Tingling or numbness under compression: the sheet says take it off. A clinician should look the same day
    (high), since numbness in the leg that stays once the compression is off points to a nerve (CLINICAL.md)."""
    return AlertDecision(
        Kind.COMPRESSION_NUMBNESS,
        Severity.HIGH,
        "The patient reported tingling or numbness while wearing compression, and was told to take it off.",
    )


# An alert's reason is its cause, then the record of its earlier versions, each entry opening with one of these.
REOPENED_MARK = " Re-opened at "
CHANGED_MARK = " Changed by the patient at "


def _record_start(reason):
    found = [at for at in (reason.find(REOPENED_MARK), reason.find(CHANGED_MARK)) if at >= 0]
    return min(found, default=len(reason))


def cause_of(reason):
    """What raised the alert: its reason without the record of its earlier versions."""
    return reason[: _record_start(reason)]


def patients_words(text):
    """A patient's own words, to quote in an alert's reason: the words that open an entry of its record (which
    ``reason_parts`` splits on) lose their capital, and curly quotes become straight ones, so no patient can write
    a line that passes for the clinic's own ("… Re-opened at 09:12: … acknowledged it")."""
    for mark in (REOPENED_MARK, CHANGED_MARK):
        text = text.replace(mark.strip(), mark.strip().lower())
    return text.replace("“", '"').replace("”", '"')


def reason_parts(reason):
    """(what the alert says now, [each earlier version's entry, oldest first]): for pages that list them."""
    marks = "|".join(re.escape(mark.strip()) for mark in (REOPENED_MARK, CHANGED_MARK))
    cause, *entries = re.split(rf" (?=(?:{marks}))", reason)
    return cause, entries


def earlier_record(reason):
    """The record that ``cause_of`` leaves out (empty for an alert never changed), to keep when the cause changes."""
    return reason[_record_start(reason) :]


def changed_reason(cause, old_reason, *, when):
    """The reason of an open alert whose cause the patient changed the same day: the new cause first, then what it
    had said, never dropped (a warning sign that sent the patient to A&E at nine stays on record at ten, whatever
    the check-in says then). ``when`` is a local time."""
    return f"{cause}{earlier_record(old_reason)}{CHANGED_MARK}{when:%H:%M}; it had said: {cause_of(old_reason)}"


def reopened_reason(cause, old_reason, *, when, acknowledged_by, acknowledged_at, note):
    """The reason of an acknowledged alert whose cause the patient has since changed (worse, or back after a
    withdrawal: ``changed_alert_is_news``): the new cause, then who had acknowledged it, when and with what note,
    since re-opening clears them, and what it had said. ``when`` and ``acknowledged_at`` are local times."""
    said = f" with the note “{note}”" if note else ""
    return (
        f"{cause}{earlier_record(old_reason)}{REOPENED_MARK}{when:%H:%M}: the patient changed what they "
        f"reported after {acknowledged_by} acknowledged it on {acknowledged_at.day} {acknowledged_at:%b} at "
        f"{acknowledged_at:%H:%M}{said}; it had said: {cause_of(old_reason)}"
    )


def worse_than_before(before, after):
    """The kinds of check-in alert that an edit of the day's check-in makes worse, from ``before`` to ``after``
    (each a dict: ``pain``, ``red_flags``, the fields answered yes, ``numbness``). The clinic is told again of an
    open alert that gets worse: one who read "call the clinic" must hear of a later "call 999"."""
    if before is None:
        return set()
    worse = set()
    if set(after["red_flags"]) - set(before["red_flags"]):
        worse.add(Kind.RED_FLAG)
    if after["pain"] > before["pain"]:
        worse |= {Kind.HIGH_PAIN, Kind.RISING_PAIN}
    if after["numbness"] and not before["numbness"]:
        worse.add(Kind.NUMBNESS)
    return worse


def changed_alert_is_news(*, worse, withdrawn):
    """Whether a change to an alert the clinic already has is news to tell it of: the patient's answers made it
    ``worse`` (``worse_than_before``), or its cause came back after an edit had ``withdrawn`` it. Then an
    acknowledged alert re-opens and an open one is e-mailed again. Any other change (pain 9 edited to 7, one of two
    red flags taken back) only brings what the alert says up to date: the clinician already has it in hand."""
    return worse or withdrawn


WITHDRAWN_PREFIX = "Withdrawn"


def withdrawn_reason(old_reason, when):
    """The reason of an alert whose cause an edit of the day's check-in took away. The alert is kept, never
    dropped: a clinician should still see that it was raised (a patient may also play a symptom down)."""
    if is_withdrawn(old_reason):
        return old_reason
    withdrawn = (
        f"{WITHDRAWN_PREFIX} at {when:%H:%M}: the patient changed the day's check-in and this no longer applies."
    )
    return changed_reason(withdrawn, old_reason, when=when)


def is_withdrawn(reason):
    return reason.startswith(WITHDRAWN_PREFIX)

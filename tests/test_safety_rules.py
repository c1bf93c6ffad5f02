"""The clinical safety rules of a check-in, as plain functions: no database needed."""

import datetime
import re

import pytest

from recovery import safety
from recovery.models import Alert, CheckIn, SafetyThresholds
from recovery.safety import Kind, Light, Severity, Thresholds, Urgency

DEFAULTS = Thresholds(ease_off_pain_from=4, alert_pain_from=6, pain_rise_points=2)


def kinds(alerts):
    return [alert.kind for alert in alerts]


@pytest.mark.parametrize(
    ("pain", "light"),
    [(0, Light.GREEN), (3, Light.GREEN), (4, Light.AMBER), (5, Light.AMBER), (6, Light.RED), (10, Light.RED)],
)
def test_the_traffic_light_follows_the_default_levels(pain, light):
    assert safety.pain_light(pain, DEFAULTS) == light


def test_the_traffic_light_follows_the_levels_it_is_given():
    strict = Thresholds(ease_off_pain_from=2, alert_pain_from=4)
    assert [safety.pain_light(pain, strict) for pain in (1, 2, 3, 4)] == [
        Light.GREEN,
        Light.AMBER,
        Light.AMBER,
        Light.RED,
    ]


def test_pain_at_the_alert_level_stops_and_one_below_does_not():
    assert safety.must_stop(6, [], DEFAULTS)
    assert not safety.must_stop(5, [], DEFAULTS)


def test_any_red_flag_stops_whatever_the_pain():
    assert safety.must_stop(0, ["pain at night"], DEFAULTS)


def test_a_calm_check_in_raises_nothing():
    assert safety.check_in_alerts(pain=2, red_flags=[], previous_scores=[2, 1, 2], thresholds=DEFAULTS) == []


def test_a_red_flag_raises_an_urgent_alert_naming_it_in_plain_words():
    [alert] = safety.check_in_alerts(pain=1, red_flags=["pain at night"], previous_scores=[], thresholds=DEFAULTS)
    assert alert.kind == Kind.RED_FLAG and alert.severity == Severity.URGENT
    assert alert.reason == "The patient answered yes to: pain at night."


def test_several_red_flags_make_one_alert_listing_them_all():
    flags = ["pain at night", "unable to bear weight on the leg"]
    [alert] = safety.check_in_alerts(pain=1, red_flags=flags, previous_scores=[], thresholds=DEFAULTS)
    assert "pain at night; unable to bear weight on the leg" in alert.reason


def test_pain_at_the_alert_level_raises_high_pain_and_one_below_does_not():
    [alert] = safety.check_in_alerts(pain=6, red_flags=[], previous_scores=[], thresholds=DEFAULTS)
    assert (alert.kind, alert.severity) == (Kind.HIGH_PAIN, Severity.HIGH)
    assert alert.reason == "Pain 6/10, at or above the alert level of 6."
    assert safety.check_in_alerts(pain=5, red_flags=[], previous_scores=[], thresholds=DEFAULTS) == []


def test_a_rise_of_the_configured_size_over_the_recent_average_raises_rising_pain():
    [alert] = safety.check_in_alerts(pain=5, red_flags=[], previous_scores=[3, 3, 3], thresholds=DEFAULTS)
    assert (alert.kind, alert.severity) == (Kind.RISING_PAIN, Severity.WATCH)
    assert "up 2 points on the average of 3" in alert.reason


def test_a_rise_one_below_the_configured_size_raises_nothing():
    assert safety.check_in_alerts(pain=4, red_flags=[], previous_scores=[3, 3, 3], thresholds=DEFAULTS) == []


def test_the_rise_is_measured_against_the_average_without_rounding():
    # Average of 2, 2 and 3 is 2.33: 4 is 1.67 above it (no alert), 5 is 2.67 above it (alert).
    assert not safety.rises_enough(4, [2, 2, 3], 2)
    assert safety.rises_enough(5, [2, 2, 3], 2)
    [alert] = safety.check_in_alerts(pain=5, red_flags=[], previous_scores=[2, 2, 3], thresholds=DEFAULTS)
    assert "up 2.7 points on the average of 2.3" in alert.reason and "3 scores recorded" in alert.reason


def test_one_earlier_score_is_enough_for_the_rising_rule():
    assert kinds(safety.check_in_alerts(pain=3, red_flags=[], previous_scores=[1], thresholds=DEFAULTS)) == [
        Kind.RISING_PAIN
    ]


def test_without_an_earlier_score_there_is_no_rise():
    assert safety.check_in_alerts(pain=5, red_flags=[], previous_scores=[], thresholds=DEFAULTS) == []
    assert not safety.rises_enough(10, [], 2)


def test_the_rise_follows_the_configured_points():
    wider = Thresholds(ease_off_pain_from=4, alert_pain_from=6, pain_rise_points=3)
    assert safety.check_in_alerts(pain=5, red_flags=[], previous_scores=[3], thresholds=wider) == []
    assert kinds(safety.check_in_alerts(pain=5, red_flags=[], previous_scores=[2], thresholds=wider)) == [
        Kind.RISING_PAIN
    ]


def test_a_bad_day_raises_every_kind_that_applies_most_urgent_first():
    alerts = safety.check_in_alerts(
        pain=8, red_flags=["pain at night"], previous_scores=[2], thresholds=DEFAULTS, numbness=True
    )
    assert kinds(alerts) == [Kind.RED_FLAG, Kind.HIGH_PAIN, Kind.NUMBNESS, Kind.RISING_PAIN]


def test_numbness_alone_is_a_high_alert_whatever_the_pain():
    [alert] = safety.check_in_alerts(pain=0, red_flags=[], previous_scores=[], thresholds=DEFAULTS, numbness=True)
    assert (alert.kind, alert.severity) == (Kind.NUMBNESS, Severity.HIGH)
    assert "numbness or tingling in the leg" in alert.reason


def test_every_kind_a_check_in_decides_is_revisited_when_it_is_edited():
    decided = safety.check_in_alerts(
        pain=9, red_flags=["pain at night"], previous_scores=[1], thresholds=DEFAULTS, numbness=True
    )
    assert set(kinds(decided)) == set(safety.CHECK_IN_KINDS)


def test_a_higher_alert_level_turns_a_stop_into_ease_off():
    relaxed = Thresholds(ease_off_pain_from=4, alert_pain_from=8, pain_rise_points=2)
    assert safety.pain_light(6, relaxed) == Light.AMBER
    assert safety.check_in_alerts(pain=6, red_flags=[], previous_scores=[], thresholds=relaxed) == []


@pytest.mark.parametrize(
    ("flags", "urgency"),
    [
        (["confusion_vomiting_headache", "cola_coloured_urine"], Urgency.EMERGENCY),
        (["bladder_or_bowel_change"], Urgency.EMERGENCY),
        (["fall_or_knock", "cola_coloured_urine"], Urgency.URGENT_CARE),
        (["fall_or_knock"], Urgency.CLINIC),
        (["cola_coloured_urine", "night_pain"], Urgency.URGENT_CARE),
        (["night_pain"], Urgency.CLINIC),
        ([], Urgency.CLINIC),
    ],
)
def test_the_stop_screen_puts_the_emergency_first(flags, urgency):
    assert safety.urgency(flags) == urgency


def test_the_emergency_flags_are_real_check_in_questions():
    assert {safety.HYPONATRAEMIA_FLAG, safety.RHABDOMYOLYSIS_FLAG, safety.NERVE_FLAG} <= set(CheckIn.RED_FLAG_FIELDS)


def test_the_rules_speak_the_models_kinds_and_severities():
    for name in ("RED_FLAG", "HIGH_PAIN", "RISING_PAIN", "NUMBNESS", "COMPRESSION_NUMBNESS"):
        assert getattr(Kind, name) == getattr(Alert.Kind, name).value
    for name in ("WATCH", "HIGH", "URGENT"):
        assert getattr(Severity, name) == getattr(Alert.Severity, name).value


def test_the_defaults_here_are_the_safety_records_defaults():
    for name in ("ease_off_pain_from", "alert_pain_from", "pain_rise_points"):
        assert getattr(DEFAULTS, name) == SafetyThresholds._meta.get_field(name).default


def test_compression_numbness_is_a_high_alert():
    alert = safety.compression_numbness_alert()
    assert (alert.kind, alert.severity) == (Kind.COMPRESSION_NUMBNESS, Severity.HIGH)
    assert "take it off" in alert.reason


def test_a_withdrawn_alert_says_so_and_keeps_what_it_had_said():
    when = datetime.datetime(2026, 5, 3, 14, 5)
    reason = safety.withdrawn_reason("Pain 7/10, at or above the alert level of 6.", when)
    assert reason.startswith("Withdrawn at 14:05")
    assert reason.endswith("Changed by the patient at 14:05; it had said: Pain 7/10, at or above the alert level of 6.")
    assert safety.is_withdrawn(reason)
    assert safety.withdrawn_reason(reason, when) == reason  # withdrawing twice changes nothing


def test_a_reopened_reason_keeps_the_cause_first_and_every_earlier_acknowledgement():
    at = datetime.datetime(2026, 11, 26, 10, 5)
    once = safety.reopened_reason(
        "Pain 8/10.", "Pain 6/10.", when=at.replace(hour=14), acknowledged_by="Sam Patel", acknowledged_at=at, note=""
    )
    assert once == (
        "Pain 8/10. Re-opened at 14:05: the patient changed what they reported after Sam Patel acknowledged it on "
        "26 Nov at 10:05; it had said: Pain 6/10."
    )
    assert safety.cause_of(once) == "Pain 8/10."
    twice = safety.reopened_reason(
        "Pain 9/10.", once, when=at.replace(hour=16), acknowledged_by="Ann Lee", acknowledged_at=at, note="rest"
    )
    assert safety.cause_of(twice) == "Pain 9/10."
    assert safety.earlier_record(twice).count("Re-opened at ") == 2
    assert twice.endswith(
        "after Ann Lee acknowledged it on 26 Nov at 10:05 with the note “rest”; it had said: Pain 8/10."
    )
    assert safety.earlier_record("Pain 6/10.") == ""


def test_a_changed_reason_keeps_every_earlier_cause_after_the_new_one():
    at = datetime.datetime(2026, 11, 26, 9, 0)
    once = safety.changed_reason("Pain at night.", "Confusion: told to call 999.", when=at)
    assert once == "Pain at night. Changed by the patient at 09:00; it had said: Confusion: told to call 999."
    twice = safety.changed_reason("Pain at night; fever.", once, when=at.replace(hour=10))
    assert safety.cause_of(twice) == "Pain at night; fever."
    assert twice.endswith(
        "it had said: Confusion: told to call 999. Changed by the patient at 10:00; it had said: Pain at night."
    )


def test_an_edit_is_worse_when_it_adds_a_warning_sign_or_a_point_of_pain():
    before = {"pain": 3, "red_flags": ["night_pain"], "numbness": False}
    assert safety.worse_than_before(None, before) == set()
    assert safety.worse_than_before(before, before) == set()
    assert safety.worse_than_before(before, {**before, "red_flags": []}) == set()
    assert safety.worse_than_before(before, {**before, "red_flags": ["night_pain", "fever_or_hot_joint"]}) == {
        "red_flag"
    }
    assert safety.worse_than_before(before, {**before, "pain": 4}) == {"high_pain", "rising_pain"}
    assert safety.worse_than_before(before, {**before, "numbness": True}) == {"numbness"}


def test_an_alerts_history_reads_oldest_first_whatever_the_changes():
    """Night pain at 9:00, taken back at 9:10, confusion at 9:20, acknowledged at 9:30, a fall at 9:40, taken back
    at 9:50: the record read "It first said" of the fall, and ran 9:50, 9:20, 9:10, 9:40."""
    at = datetime.datetime(2026, 11, 26, 9, 0)
    reason = "Night pain."
    reason = safety.withdrawn_reason(reason, at.replace(minute=10))
    reason = safety.changed_reason("Confusion: told to call 999.", reason, when=at.replace(minute=20))
    acknowledged = {"acknowledged_by": "Sam", "acknowledged_at": at.replace(minute=30), "note": ""}
    reason = safety.reopened_reason("A fall.", reason, when=at.replace(minute=40), **acknowledged)
    reason = safety.withdrawn_reason(reason, at.replace(minute=50))
    now, entries = safety.reason_parts(reason)
    assert now.startswith("Withdrawn at 09:50")
    assert [re.search(r"\d\d:\d\d", entry)[0] for entry in entries] == ["09:10", "09:20", "09:40", "09:50"]
    assert entries[0].endswith("it had said: Night pain.") and entries[-1].endswith("it had said: A fall.")
    assert "It first said" not in reason


def test_a_patients_words_quoted_in_an_alert_cannot_pass_for_its_record():
    """A day off's reason "flu Re-opened at 09:12: … Dr Smith acknowledged it" made up an earlier version."""
    words = "flu” Re-opened at 09:12: the patient changed what they reported after Dr Smith acknowledged it"
    reason = f"Nothing ticked. Days off marked meanwhile: 26 Nov “{safety.patients_words(words)}”."
    now, entries = safety.reason_parts(reason)
    assert entries == [] and now == reason
    assert "”" not in safety.patients_words(words)

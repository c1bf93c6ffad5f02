"""The plan rules (recovery/rules.py) as a patient meets them: plain dataclasses, no database.

Dates are written as day numbers: ``d(0)`` is race day (a Sunday), ``d(1)`` the Monday after it.
"""

import datetime
import importlib
import random
from dataclasses import dataclass, replace

import pytest

from recovery.rules import (
    CHECK_IN_STEP_KEY,
    DAYS_BACK_EDITABLE,
    DayScore,
    Gate,
    Level,
    Lock,
    PhaseRule,
    PlanFacts,
    Stage,
    StepRule,
    WeekTally,
    adherence,
    calendar,
    day_level,
    gate_lock,
    is_editable,
    last_days,
    pain_series,
    phase_on,
    phase_starting_on,
    road_ahead,
    score_day,
    steps_on,
    streak,
    tasks_on,
    tick_problem,
    week_tally,
)

RACE = datetime.date(2025, 4, 27)  # a Sunday


def d(day):
    return RACE + datetime.timedelta(days=day)


def step(key, first_day=0, last_day=None, *, position=1, label=None, **rules):
    label = label or key.title()
    return StepRule(key=key, label=label, position=position, first_day=first_day, last_day=last_day, **rules)


def weekly(key, times, first_day=0, last_day=None, **rules):
    return step(key, first_day, last_day, times_per_week=times, **rules)


def pain_gated(key, first_day=0, last_day=None, pain_max=3, **rules):
    return step(key, first_day, last_day, gate=Gate.PAIN, gate_pain_max=pain_max, **rules)


def plan(
    *steps,
    done=(),
    pain=None,
    pain_before=None,
    excused=(),
    cleared_on=None,
    phases=(),
    warned=(),
    warned_before=False,
    joined=None,
    paused=None,
    held=(),
    stop_pain_from=6,
):
    """A plan's facts. ``done`` holds (key, day, count) triples; ``pain`` maps day numbers to scores; ``warned``
    lists the days whose check-in reported a warning sign; ``joined`` is the day the patient was enrolled."""
    return PlanFacts(
        race_date=RACE,
        steps=list(steps),
        phases=list(phases),
        cleared_on=cleared_on,
        pain_by_date={d(day): score for day, score in (pain or {}).items()},
        pain_before=pain_before,
        warned_on={d(day) for day in warned},
        warned_before=warned_before,
        done={(key, d(day)): count for key, day, count in done},
        joined_on=None if joined is None else d(joined),
        paused_on=None if paused is None else d(paused),
        held={d(day) for day in held},
        excused={d(day) for day in (*excused, *held)},
        stop_pain_from=stop_pain_from,
    )


def every(key, days, count=1):
    return [(key, day, count) for day in days]


def task(facts, key, day, today=None):
    today = d(day) if today is None else today
    return next(task for task in tasks_on(facts, d(day), today) if task.key == key)


# The clinic's real default protocol, exactly as the data migration loads it.
CLINIC = importlib.import_module("recovery.migrations.0002_clinic_content")
CLINIC_STEPS = [
    StepRule(
        key=key,
        label=label,
        position=position,
        first_day=first_day,
        last_day=last_day,
        doses_per_day=doses,
        times_per_week=times,
        gate=gate,
        gate_pain_max=pain_max,
    )
    for position, (key, _slug, label, _text, first_day, last_day, doses, times, gate, pain_max) in enumerate(
        CLINIC.STEPS, start=1
    )
]
CLINIC_PHASES = [
    PhaseRule(name=name, position=position, first_day=first_day, gate=gate)
    for position, name, first_day, gate, _text in CLINIC.PHASES
]


def clinic_plan(**facts):
    return plan(*CLINIC_STEPS, phases=CLINIC_PHASES, **facts)


# -- What is on the plan on a day -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cleared", "day", "new"),
    [(None, 21, False), (22, 21, False), (22, 22, True), (22, 23, False), (18, 21, True), (18, 22, False)],
)
def test_a_step_waiting_for_the_sign_off_is_new_on_the_day_it_opens_not_behind_its_lock(cleared, day, new):
    facts = clinic_plan(cleared_on=None if cleared is None else d(cleared))
    assert task(facts, "warm-up", day).new is new


@pytest.mark.parametrize(
    ("day", "new"),
    [(0, []), (1, []), (4, ["stretch"]), (7, ["strength-early", "cross-train"]), (8, []), (15, ["strength"])],
)
def test_the_checklist_points_out_the_steps_starting_that_day_after_race_day(day, new):
    assert [task.key for task in tasks_on(clinic_plan(), d(day), d(day)) if task.new] == new


def test_the_checklist_points_out_a_step_changed_that_day_and_one_added_that_day():
    # Ice tailored to 2 doses from day 2; a walk added to the plan from day 2 (its window opened on race day).
    facts = plan(
        step("ice", 0, 5, doses_per_day=3, valid_until=d(2)),
        step("ice", 0, 5, doses_per_day=2, valid_from=d(2)),
        step("walk", 0, None, valid_from=d(2), position=2),
    )
    marks = {day: {task.key: (task.new, task.updated) for task in tasks_on(facts, d(day), d(day))} for day in (1, 2, 3)}
    assert marks[1] == {"ice": (False, False)}
    assert marks[2] == {"ice": (False, True), "walk": (True, False)}
    assert marks[3] == {"ice": (False, False), "walk": (False, False)}  # pointed out on the day only


@dataclass(frozen=True)
class Words:
    instruction: str
    tip_title: str = "Ice Therapy"


@pytest.mark.parametrize(
    ("change", "updated"),
    [
        ({"position": 5}, False),  # moved in the list: nothing to read
        ({}, False),  # a version restored to the very words it had
        ({"doses_per_day": 2}, True),
        ({"last_day": 4}, True),
        ({"label": "Ice the sore hip"}, True),
        ({"gate": Gate.PAIN, "gate_pain_max": 3}, True),
        ({"ref": Words("Ice for ten minutes.")}, True),
        ({"ref": Words("Ice for 15 minutes.", tip_title="Rest and Recovery")}, True),
    ],
)
def test_updated_is_pointed_out_only_when_what_the_patient_reads_or_does_changed(change, updated):
    before = step("ice", 0, 5, doses_per_day=3, valid_until=d(2), ref=Words("Ice for 15 minutes."))
    after = replace(before, valid_until=None, valid_from=d(2), **{"ref": Words("Ice for 15 minutes."), **change})
    [task] = tasks_on(plan(before, after), d(2), d(2))
    assert task.updated is updated


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (-1, []),
        (0, ["rest", "ice", "compression", "elevate", "hydrate", "nutrition", "check-in"]),
        (2, ["rest", "ice", "compression", "elevate", "hydrate", "nutrition", "check-in"]),
        (3, ["rest", "compression", "elevate", "hydrate", "nutrition", "check-in"]),
        (4, ["rest", "hydrate", "nutrition", "check-in", "stretch"]),
        (7, ["rest", "nutrition", "check-in", "stretch", "strength-early", "cross-train"]),
        (14, ["check-in", "stretch", "strength-early", "cross-train"]),
        (15, ["check-in", "stretch", "cross-train", "strength"]),
        (21, ["check-in", "stretch", "cross-train", "strength", "warm-up", "runner-strength", "form", "shoes"]),
        (400, ["check-in", "stretch", "cross-train", "strength", "warm-up", "runner-strength", "form", "shoes"]),
    ],
)
def test_clinic_checklist_holds_the_steps_whose_window_includes_the_day_in_plan_order(day, expected):
    # Locked steps are listed too (with their reason): the patient sees what is coming.
    assert [task.key for task in tasks_on(clinic_plan(), d(day), d(day))] == expected


@pytest.mark.parametrize(("day", "on_plan"), [(3, False), (4, True), (5, True), (6, True), (7, False)])
def test_day_window_includes_first_and_last_day(day, on_plan):
    facts = plan(step("walk", 4, 6))
    assert [s.key for s in steps_on(facts, d(day))] == (["walk"] if on_plan else [])


def test_open_ended_step_goes_on_for_ever():
    facts = plan(step("check-in", 0, None))
    assert [s.key for s in steps_on(facts, d(1000))] == ["check-in"]


def test_nothing_is_due_before_race_day():
    # Even a step with a window reaching back before the race: day numbers below 0 are before the plan.
    facts = plan(step("walk", -3, 5), done=[("walk", -1, 1)])
    assert steps_on(facts, d(-1)) == []
    assert tasks_on(facts, d(-1), d(3)) == []
    assert score_day(facts, d(-1), d(3)).due == 0


def test_tasks_come_in_plan_order_whatever_the_order_of_the_steps():
    facts = plan(step("c", position=3), step("a", position=1), step("b", position=2))
    assert [task.key for task in tasks_on(facts, d(0), d(0))] == ["a", "b", "c"]


def tailored_ice():
    """Ice 3 times a day until day 2, when the physio lowers it to twice a day (days 0-5)."""
    return [
        step("ice", 0, 5, doses_per_day=3, valid_until=d(2)),
        step("ice", 0, 5, doses_per_day=2, valid_from=d(2)),
    ]


@pytest.mark.parametrize(("day", "target"), [(0, 3), (1, 3), (2, 2), (5, 2)])
def test_tailored_step_changes_from_its_date(day, target):
    # valid_from is the first day of the new version, valid_until the first day without the old one.
    assert task(plan(*tailored_ice()), "ice", day).target == target


def test_past_days_keep_the_rules_they_were_done_under():
    facts = plan(*tailored_ice(), done=[("ice", 0, 3), ("ice", 1, 3), ("ice", 2, 2)])
    # Day 1 is still judged against 3 doses: 3 done is complete, not more than asked.
    assert score_day(facts, d(1), d(3)) == DayScore(due=3, done=3)
    assert adherence(facts, d(0), d(2), d(3)) == 1.0
    # Had the new version reached back, day 1 would show "2 of 2" and 3 doses would be capped.
    assert task(facts, "ice", 1, today=d(3)).target == 3


def test_stopped_step_is_gone_from_its_stop_date():
    facts = plan(step("compression", 0, 10, valid_until=d(3)))
    assert [s.key for s in steps_on(facts, d(2))] == ["compression"]
    assert steps_on(facts, d(3)) == []


# -- Doses per day --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ticked", "shown", "complete"), [(0, 0, False), (2, 2, False), (3, 3, True), (5, 3, True)])
def test_ice_three_times_a_day_on_the_first_three_days(ticked, shown, complete):
    facts = clinic_plan(done=[("ice", 1, ticked)])
    ice = task(facts, "ice", 1)
    assert (ice.done, ice.target, ice.complete) == (shown, 3, complete)


def test_extra_doses_do_not_make_up_for_another_day():
    facts = plan(step("ice", 0, 2, doses_per_day=3), done=[("ice", 0, 6), ("ice", 1, 0)])
    assert adherence(facts, d(0), d(1), d(2)) == 3 / 6


# -- Gates --------------------------------------------------------------------------------------------------------


def test_pain_gate_is_locked_while_no_pain_has_been_recorded():
    stretch = task(plan(pain_gated("stretch", 4)), "stretch", 4)
    assert stretch.lock == Lock(Gate.PAIN, 3, no_score=True)
    assert stretch.lock.message == "Unlocks after a check-in, once your pain is 3/10 or less."


@pytest.mark.parametrize(("pain", "locked"), [(0, False), (3, False), (4, True), (10, True)])
def test_pain_gate_opens_at_the_limit_or_below(pain, locked):
    facts = plan(pain_gated("stretch", 4), pain={3: pain})
    assert (task(facts, "stretch", 4).lock is not None) == locked


def test_pain_gate_uses_the_latest_score_on_or_before_the_day():
    facts = plan(pain_gated("stretch", 0), pain={1: 6, 3: 2, 5: 7})
    locked = {day: task(facts, "stretch", day).lock is not None for day in range(7)}
    assert locked == {0: True, 1: True, 2: True, 3: False, 4: False, 5: True, 6: True}


def test_a_score_recorded_on_the_day_itself_counts():
    facts = plan(pain_gated("stretch", 0), pain={2: 1, 4: 5})
    assert task(facts, "stretch", 4).lock is not None


def test_a_later_high_score_does_not_lock_an_earlier_day():
    facts = plan(pain_gated("stretch", 0), pain={1: 2, 2: 8}, done=[("stretch", 1, 1)])
    assert task(facts, "stretch", 1, today=d(2)).lock is None
    # ...so the session done on day 1 still counts.
    assert adherence(facts, d(1), d(1), d(3)) == 1.0


@pytest.mark.parametrize(("pain_before", "locked"), [(None, True), (2, False), (5, True)])
def test_pain_before_the_loaded_window_judges_its_first_days(pain_before, locked):
    facts = plan(pain_gated("stretch", 0), pain={5: 7}, pain_before=pain_before)
    assert (task(facts, "stretch", 3).lock is not None) == locked
    # From day 5 the recorded score decides.
    assert task(facts, "stretch", 5).lock is not None


def test_a_warning_sign_closes_the_pain_gates_whatever_the_score_until_a_check_in_without_one():
    facts = plan(pain_gated("stretch", 0), step("ice", 0), pain={3: 1, 4: 1, 6: 2}, warned=[4])
    assert task(facts, "stretch", 3).lock is None
    lock = task(facts, "stretch", 4).lock
    assert lock == Lock(Gate.PAIN, 3, warning=True)
    assert lock.message == (  # the banner above says whom to call: 999, NHS 111 or the clinic
        "On hold because of a warning sign: follow the advice at the top of the page. It opens after a check-in "
        "without one."
    )
    assert task(facts, "stretch", 5, today=d(5)).lock == lock  # no check-in on day 5: the warning still stands
    assert task(facts, "stretch", 6, today=d(6)).lock is None  # day 6's check-in had none
    assert task(facts, "ice", 4).lock is None  # only the gated steps, the exercises that load the hip
    # A locked step is not due: the day of the warning does not count against the patient.
    assert adherence(facts, d(4), d(4), d(6)) == adherence(plan(step("ice", 0)), d(4), d(4), d(6))


def test_a_warning_before_the_loaded_window_holds_its_first_days():
    facts = plan(pain_gated("stretch", 0), pain={5: 1}, pain_before=1, warned_before=True)
    assert task(facts, "stretch", 3).lock.warning
    assert task(facts, "stretch", 5).lock is None


def test_a_warning_sign_keeps_a_pain_gated_phase_closed():
    phases = [PhaseRule("Protect", 0, 0), PhaseRule("Early recovery", 1, 4, Gate.PAIN, 3)]
    assert phase_on(plan(phases=phases, pain={5: 1}), d(5)).name == "Early recovery"
    assert phase_on(plan(phases=phases, pain={5: 1}, warned=[5]), d(5)).name == "Protect"


def test_clearance_gate_is_closed_until_the_clinician_clears_the_runner():
    warm_up = task(clinic_plan(), "warm-up", 21)
    assert warm_up.lock == Lock(Gate.CLEARANCE)
    assert warm_up.lock.message == "Unlocks once your clinician clears you to run."


def test_a_stop_holds_a_signed_off_step_and_it_is_not_due_that_day():
    run = step("run", 21, gate=Gate.CLEARANCE)
    rest = step("rest", 0, position=2)
    facts = plan(run, rest, cleared_on=d(21), pain={24: 5, 25: 6, 26: 2, 27: 1}, warned=[27], stop_pain_from=6)
    assert task(facts, "run", 24).lock is None  # easing off (amber) is not a stop
    assert task(facts, "run", 25).lock == Lock(Gate.CLEARANCE, stop_pain=True)
    assert task(facts, "run", 26).lock is None  # a check-in with less pain lifts it
    assert task(facts, "run", 27).lock == Lock(Gate.CLEARANCE, warning=True)
    assert score_day(facts, d(25), d(26)) == DayScore(due=1, done=0)  # only the rest: stopping cost no points
    assert score_day(facts, d(24), d(26)) == DayScore(due=2, done=0)


def test_a_stop_holds_a_pain_gated_step_in_the_banners_words_whatever_its_limit():
    facts = plan(pain_gated("walk", 0, pain_max=8), pain_gated("stretch", 0, pain_max=3), pain={3: 7, 4: 5},
                 stop_pain_from=6)  # fmt: skip
    assert task(facts, "walk", 3).lock == Lock(Gate.PAIN, 8, stop_pain=True)
    assert task(facts, "stretch", 3).lock == Lock(Gate.PAIN, 3, stop_pain=True)
    assert task(facts, "stretch", 4).lock == Lock(Gate.PAIN, 3)  # amber: it waits for 3 or less
    not_cleared = plan(step("run", 0, gate=Gate.CLEARANCE), pain={3: 7}, stop_pain_from=6)
    assert task(not_cleared, "run", 3).lock == Lock(Gate.CLEARANCE)  # it waits for the sign-off first


@pytest.mark.parametrize(("day", "locked"), [(21, True), (24, True), (25, False), (40, False)])
def test_clearance_gate_opens_on_the_day_of_clearance(day, locked):
    facts = clinic_plan(cleared_on=d(25))
    assert (task(facts, "warm-up", day).lock is not None) == locked


def test_gate_lock_of_an_ungated_step_is_none():
    assert gate_lock(Gate.NONE, None, plan(), d(3)) is None


# -- Phases ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "cleared_day", "phase"),
    [
        (-1, None, None),
        (-1, -5, None),
        (0, None, "Protect"),
        (3, None, "Protect"),
        (4, None, "Early recovery"),
        (14, None, "Early recovery"),
        (15, None, "Strengthen"),
        (21, None, "Strengthen"),
        (100, None, "Strengthen"),
        (20, 18, "Strengthen"),
        (21, 18, "Return to running"),
        (24, 25, "Strengthen"),
        (25, 25, "Return to running"),
    ],
)
def test_phase_of_the_clinic_protocol(day, cleared_day, phase):
    facts = clinic_plan(cleared_on=None if cleared_day is None else d(cleared_day))
    found = phase_on(facts, d(day))
    assert (found.name if found else None) == phase


@pytest.mark.parametrize(
    ("day", "cleared_day", "phase"),
    [
        (0, None, "Protect"),
        (1, None, None),
        (4, None, "Early recovery"),
        (5, None, None),
        (15, None, "Strengthen"),
        (21, None, None),  # waiting for the clinician's sign-off
        (21, 18, "Return to running"),
        (25, 25, "Return to running"),  # signed off late: the phase starts that day
        (26, 25, None),
    ],
)
def test_the_day_a_phase_starts(day, cleared_day, phase):
    facts = clinic_plan(cleared_on=None if cleared_day is None else d(cleared_day))
    found = phase_starting_on(facts, d(day))
    assert (found.name if found else None) == phase


def test_falling_back_to_an_earlier_phase_is_not_announced():
    phases = [PhaseRule("Protect", 0, 0), PhaseRule("Early recovery", 1, 4, Gate.PAIN, 3)]
    facts = plan(phases=phases, pain={4: 1, 6: 7, 8: 2})
    assert [getattr(phase_starting_on(facts, d(day)), "name", None) for day in range(4, 9)] == [
        "Early recovery",
        None,
        None,  # back in Protect: pain 7
        None,
        "Early recovery",  # open again
    ]


def stages(road):
    return [(stop.phase.name, stop.stage) for stop in road]


def test_the_road_marks_the_phases_behind_the_current_one_and_ahead_of_it():
    road = road_ahead(clinic_plan(), d(5))
    assert stages(road) == [
        ("Protect", Stage.PAST),
        ("Early recovery", Stage.CURRENT),
        ("Strengthen", Stage.AHEAD),
        ("Return to running", Stage.AHEAD),
    ]
    assert [stop.first_date for stop in road] == [d(0), d(4), d(15), d(21)]


def test_a_phase_ahead_names_the_steps_that_start_during_it():
    strengthen, running = road_ahead(clinic_plan(), d(5))[2:]
    assert strengthen.new_steps == ("Lunges, squats, clamshells and bridges",)
    assert running.new_steps == (
        "Warm up before you run",
        "Strength session for runners",
        "Run with good form",
        "Check your running shoes",
    )


def test_a_return_to_running_signed_off_late_began_on_the_day_of_the_sign_off():
    # Day 21 was the phase's first day; the clinician signed off on day 24, when Today announced the new phase.
    running = road_ahead(clinic_plan(cleared_on=d(24)), d(25))[3]
    assert (running.stage, running.first_date, running.first_day) == (Stage.CURRENT, d(24), 24)
    # Signed off early (day 18): the phase still began on its own first day.
    running = road_ahead(clinic_plan(cleared_on=d(18)), d(25))[3]
    assert (running.first_date, running.first_day) == (d(21), 21)


def test_phases_behind_and_the_current_one_list_no_new_steps():
    protect, early = road_ahead(clinic_plan(), d(5))[:2]
    assert protect.new_steps == () and early.new_steps == ()


def test_the_current_phase_names_its_steps_still_to_start_with_their_day():
    protect, early = road_ahead(clinic_plan(), d(5))[:2]
    # Day 5 of the early phase (days 4-14): the clamshells and the cross-training start on day 7.
    assert early.coming == (("Clamshells and hip bridges", 7), ("Low-impact exercise", 7))
    assert protect.coming == ()
    assert road_ahead(clinic_plan(), d(7))[1].coming == ()  # started today: on Today's list, marked "New"


def test_the_return_to_running_waits_for_the_clinicians_clearance_until_it_is_given():
    assert road_ahead(clinic_plan(), d(5))[3].lock == Lock(Gate.CLEARANCE)
    assert road_ahead(clinic_plan(cleared_on=d(5)), d(5))[3].lock is None
    assert stages(road_ahead(clinic_plan(cleared_on=d(5)), d(21)))[3] == ("Return to running", Stage.CURRENT)


def test_a_pain_gated_phase_reached_but_closed_stays_ahead_and_says_why():
    phases = [PhaseRule("Protect", 0, 0), PhaseRule("Early recovery", 1, 4, Gate.PAIN, 3)]
    road = road_ahead(plan(phases=phases, pain={5: 6}), d(5))
    assert stages(road) == [("Protect", Stage.CURRENT), ("Early recovery", Stage.AHEAD)]
    assert road[1].lock.message == "Unlocks once your pain is 3/10 or less."
    assert road_ahead(plan(phases=phases, pain={5: 6, 6: 2}), d(6))[1].stage == Stage.CURRENT


def test_a_step_tailored_before_its_first_day_shows_on_the_road_as_the_patient_will_see_it():
    as_planned = step("strength", 15, label="Lunges and squats", valid_until=d(3))
    tailored = step("strength", 15, label="Squats only", valid_from=d(3))
    phases = [PhaseRule("Protect", 0, 0), PhaseRule("Strengthen", 1, 15)]
    assert road_ahead(plan(as_planned, tailored, phases=phases), d(5))[1].new_steps == ("Squats only",)


def test_a_stopped_step_is_not_announced():
    stopped = step("strength", 15, valid_until=d(3))
    phases = [PhaseRule("Protect", 0, 0), PhaseRule("Strengthen", 1, 15)]
    assert road_ahead(plan(stopped, phases=phases), d(5))[1].new_steps == ()


def test_a_plan_without_phases_has_no_road():
    assert road_ahead(plan(step("rest")), d(5)) == []


# -- Adherence -------------------------------------------------------------------------------------------------------


def test_everything_done_is_full_adherence():
    facts = plan(step("rest", 0, 13), step("ice", 0, 2, doses_per_day=3), done=every("rest", range(3)))
    facts.done.update({("ice", d(day)): 3 for day in range(3)})
    assert adherence(facts, d(0), d(2), d(3)) == 1.0


def test_half_done_is_half():
    facts = plan(step("rest"), done=every("rest", [0, 2]))
    assert adherence(facts, d(0), d(3), d(4)) == 0.5


def test_doses_are_weighted_by_count():
    # Day 0: ice 3 of 3 and rest 0 of 1; day 1: ice 1 of 3 and rest 1 of 1 -> 5 of 8 doses.
    facts = plan(
        step("rest", position=1),
        step("ice", 0, 2, doses_per_day=3, position=2),
        done=[("ice", 0, 3), ("ice", 1, 1), ("rest", 1, 1)],
    )
    assert adherence(facts, d(0), d(1), d(2)) == 5 / 8


def test_prescribed_rest_counts_and_locked_steps_are_not_due():
    # Day 4 of the clinic plan: rest, hydrate, nutrition, check-in, and the stretch locked (no pain recorded).
    facts = clinic_plan(done=every("hydrate", [4]) + every("nutrition", [4]) + every("check-in", [4]))
    assert adherence(facts, d(4), d(4), d(5)) == 3 / 4
    facts.done[("rest", d(4))] = 1
    assert adherence(facts, d(4), d(4), d(5)) == 1.0


def test_once_unlocked_the_step_is_due():
    facts = clinic_plan(done=[(key, 4, 1) for key in ("rest", "hydrate", "nutrition", "check-in")], pain={4: 2})
    assert adherence(facts, d(4), d(4), d(5)) == 4 / 5


def test_todays_undone_doses_do_not_lower_the_score():
    facts = plan(step("rest"), step("ice", 0, 2, doses_per_day=3, position=2), done=[("rest", 0, 1), ("ice", 0, 3)])
    assert adherence(facts, d(0), d(1), today=d(1)) == 1.0
    # Tomorrow they are missed.
    assert adherence(facts, d(0), d(1), today=d(2)) == 4 / 8


def test_todays_done_doses_raise_the_score():
    facts = plan(step("ice", 0, 2, doses_per_day=3), done=[("ice", 0, 1)])
    assert adherence(facts, d(0), d(1), today=d(1)) == 1 / 3
    facts.done[("ice", d(1))] = 1
    assert adherence(facts, d(0), d(1), today=d(1)) == 2 / 4
    facts.done[("ice", d(1))] = 3
    assert adherence(facts, d(0), d(1), today=d(1)) == 4 / 6


def test_an_excused_day_freezes_the_score():
    history = every("rest", [0, 1, 3])  # day 2 not done; day 4 is today
    assert adherence(plan(step("rest"), done=history), d(0), d(4), d(4)) == 3 / 4
    facts = plan(step("rest"), done=history, excused=[2])
    assert adherence(facts, d(0), d(4), d(4)) == 1.0
    # The score holds exactly where it stood before the day off.
    assert adherence(facts, d(0), d(2), d(4)) == adherence(facts, d(0), d(1), d(4))


def test_days_before_the_patient_joined_are_neither_due_nor_missed():
    # Enrolled on day 3: days 0 to 2 had no portal to tick, day 3 was missed, day 4 (today) done.
    facts = plan(step("rest"), done=every("rest", [4]), joined=3)
    assert adherence(facts, d(0), d(2), d(4)) is None
    assert adherence(facts, d(0), d(4), d(4)) == 1 / 2
    assert [day_level(facts, d(day), d(4)) for day in range(5)] == [Level.UNTRACKED] * 3 + [Level.NONE, Level.FULL]


def test_a_day_before_joining_that_the_patient_filled_in_counts_whole():
    # The checklist reaches two days back: ticks on day 2 bring that day in, with what was left undone.
    facts = plan(step("rest"), step("ice", doses_per_day=3), done=[("rest", 2, 1), ("ice", 2, 1)], joined=3)
    assert adherence(facts, d(0), d(2), d(3)) == 2 / 4  # day 2 alone
    assert day_level(facts, d(2), d(3)) == Level.PART
    # A check-in alone brings the day in too.
    assert adherence(plan(step("rest"), done=[("rest", 2, 1)], pain={1: 2}, joined=3), d(0), d(2), d(3)) == 1 / 2


def test_a_day_before_joining_filled_in_does_not_ask_for_the_check_in_it_could_never_have():
    """A check-in is taken on the day itself: race day, ticked on day 1 by a patient enrolled then, can't have one."""
    facts = plan(
        step("rest"),
        step(CHECK_IN_STEP_KEY),
        done=[("rest", 0, 1), ("rest", 1, 1), (CHECK_IN_STEP_KEY, 1, 1)],
        joined=1,
    )
    assert adherence(facts, d(0), d(1), d(2)) == 1.0
    assert day_level(facts, d(0), d(2)) == Level.FULL


def test_a_day_before_joining_left_empty_does_not_break_the_streak():
    # Day 1 filled in from the checklist's reach, day 2 left empty: it was never asked of the patient.
    facts = plan(step("rest"), done=every("rest", [1, 3, 4]), joined=3)
    assert streak(facts, d(4)) == 3


def test_a_weekly_step_asks_a_late_joiner_only_for_the_days_left_in_its_week():
    # Three sessions a week from race day, no gate; enrolled on day 5 (a Friday): days 0 to 4 were never asked of
    # the patient, so the week has two days left and asks for two sessions, not three in two days.
    strength = weekly("strength", 3)
    facts = plan(strength, done=every("strength", [5, 6]), joined=5)
    assert week_tally(strength, facts, d(6), d(6)) == WeekTally(quota=2, done=2)
    assert task(facts, "strength", 6).complete
    assert adherence(facts, d(0), d(6), d(7)) == 1.0
    # A day before joining that the patient filled in from the checklist's reach is back in the week.
    facts = plan(strength, done=every("strength", [4, 5, 6]), joined=5)
    assert week_tally(strength, facts, d(6), d(6)) == WeekTally(quota=3, done=3)


def test_days_on_hold_are_neither_due_nor_missed():
    # Everything done on days 0 to 2; the clinician paused the plan on day 3; today is day 5.
    facts = plan(step("rest"), done=every("rest", range(3)), paused=3)
    assert adherence(facts, d(0), d(5), d(5)) == 1.0
    assert [day_level(facts, d(day), d(5)) for day in range(6)] == [Level.FULL] * 3 + [Level.PAUSED] * 3
    assert streak(facts, d(5)) == 3


def test_while_paused_every_task_is_on_hold_and_cannot_be_ticked():
    facts = plan(step("rest"), pain_gated("stretch"), pain={4: 1}, paused=3)
    tasks = tasks_on(facts, d(4), d(4))
    # Rest, ice or drinking are not "on hold" (a runner could read that as "run again"): they go on, unticked.
    keep_up = "Keep this up while your plan is paused. There's nothing to tick until it starts again."
    assert [task.lock.message for task in tasks] == [keep_up, "On hold: your clinician has paused your plan."]
    assert tick_problem(facts, "rest", d(4), 1, d(4)) == keep_up
    assert tasks_on(facts, d(2), d(4))[0].lock is None  # the days before the pause are as they were


def test_days_on_hold_leave_the_weekly_quota_as_a_day_off_would():
    strength = weekly("strength", 3)
    assert week_tally(strength, plan(strength), d(0), d(0)).quota == 3
    assert week_tally(strength, plan(strength, paused=2), d(0), d(0)).quota == 2  # days 2 to 6 on hold


def test_the_days_off_a_finished_pause_wrote_still_read_as_on_hold():
    facts = plan(step("rest"), done=every("rest", [0, 3]), held=[1, 2])
    assert [day_level(facts, d(day), d(3)) for day in range(4)] == [Level.FULL, Level.PAUSED, Level.PAUSED, Level.FULL]
    assert adherence(facts, d(0), d(3), d(3)) == 1.0 and streak(facts, d(3)) == 2


def test_ticks_on_an_excused_day_do_not_count_either():
    facts = plan(step("rest"), done=every("rest", [1]), excused=[1])
    assert adherence(facts, d(0), d(1), d(2)) == 0.0


def test_nothing_due_gives_no_score():
    assert adherence(plan(step("rest")), d(-7), d(-1), d(-1)) is None  # before the race
    assert adherence(plan(), d(0), d(5), d(6)) is None  # no steps
    assert adherence(plan(pain_gated("stretch")), d(0), d(5), d(6)) is None  # locked all along
    assert adherence(plan(step("rest"), excused=[0, 1]), d(0), d(1), d(2)) is None  # all excused
    assert adherence(plan(step("rest")), d(0), d(0), d(0)) is None  # only today, nothing done yet


def test_a_first_day_alone_has_no_share_yet_not_100_percent_after_one_tick():
    """Today counts only what can no longer be made up: one tick of six would read "100% done"."""
    facts = plan(step("rest", 0), step("ice", 0, doses_per_day=3), step("hydrate", 0), joined=5, done=[("ice", 5, 1)])
    assert adherence(facts, d(0), d(5), d(5)) is None
    # From the next day on, yesterday's whole day counts (1 of 5 doses), with what today has so far (nothing yet).
    assert adherence(facts, d(0), d(6), d(6)) == 1 / 5


def test_adherence_ignores_days_before_the_race_and_after_today():
    facts = plan(step("rest"), done=every("rest", [-3, -2, 0, 1]))
    assert adherence(facts, d(-10), d(30), d(2)) == 1.0


# -- "N times a week" ----------------------------------------------------------------------------------------------
# The clinic's cross-training starts on day 7 (a Sunday): its weeks run from day 7 to 13, 14 to 20, and so on.


def cross_training(**rules):
    return weekly("cross-train", 3, 7, **rules)


def test_weekly_step_asks_for_its_sessions_each_week():
    cross = task(plan(cross_training()), "cross-train", 7)
    assert (cross.target, cross.week.quota, cross.week.done, cross.complete) == (1, 3, 0, False)


def test_weekly_quota_is_never_more_than_the_days_available():
    # The window holds only days 7 and 8: two sessions at most.
    assert week_tally(weekly("strength", 3, 7, 8), plan(), d(7), d(7)).quota == 2
    # Five days of the week off ill leave two days.
    facts = plan(cross_training(), excused=range(7, 12))
    assert task(facts, "cross-train", 12).week.quota == 2


def test_locked_days_shrink_the_weekly_quota():
    facts = plan(cross_training(gate=Gate.PAIN, gate_pain_max=3), pain={7: 6, 12: 2})
    assert task(facts, "cross-train", 12).week.quota == 2


def test_future_days_of_the_week_count_as_available():
    # Day 9 is today: days 9 to 13 are all still to come, and pain on them is not known yet.
    facts = plan(cross_training(gate=Gate.PAIN, gate_pain_max=3), pain={7: 6, 9: 1})
    assert task(facts, "cross-train", 9).week.quota == 3
    # Still locked today: the pain may settle tomorrow, so the week keeps asking for three sessions (days 10-13).
    facts = plan(cross_training(gate=Gate.PAIN, gate_pain_max=3), pain={7: 6})
    assert task(facts, "cross-train", 9).week.quota == 3


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (8, 0),  # days 8-13 left
        (11, 0),  # days 11, 12, 13 left: still enough
        (12, 1),  # two days left for three sessions: one is lost
        (13, 2),
        (14, 3),  # the week is over
        (17, 3),  # days 17-20 are enough for the next week
        (20, 5),  # only day 20 is left for three sessions
        (21, 6),
    ],
)
def test_a_weekly_session_is_missed_only_when_too_few_days_are_left(today, due):
    facts = plan(cross_training())
    total_due = sum(score_day(facts, d(day), d(today)).due for day in range(today + 1))
    assert total_due == due
    assert adherence(facts, d(0), d(today), d(today)) == (0.0 if due else None)


def test_sessions_done_early_in_the_week_keep_the_score_full():
    facts = plan(cross_training(), done=every("cross-train", [7, 8]))
    assert adherence(facts, d(7), d(13), d(13)) == 1.0  # the third can still be done today
    assert adherence(facts, d(7), d(13), d(14)) == 2 / 3


def test_todays_undone_session_is_not_missed_while_today_lasts():
    facts = plan(cross_training(), done=every("cross-train", [7]))
    # Today is day 12: two sessions still needed, days 12 and 13 left.
    assert adherence(facts, d(7), d(12), d(12)) == 1.0
    assert adherence(facts, d(7), d(12), d(13)) == 1 / 2


def test_ticks_beyond_the_weekly_quota_do_not_count():
    facts = plan(cross_training(), done=every("cross-train", range(7, 14)) + every("cross-train", [14]))
    assert task(facts, "cross-train", 13, today=d(21)).week == WeekTally(quota=3, done=3)
    # Week one: 3 of 3; week two: 1 of 3. Seven sessions in week one do not cover week two.
    assert adherence(facts, d(7), d(20), d(21)) == 4 / 6
    assert score_day(facts, d(10), d(21)).due == 0


def test_weekly_task_is_complete_once_the_week_is():
    facts = plan(cross_training(), done=every("cross-train", [7, 8, 9]))
    cross = task(facts, "cross-train", 10)
    assert (cross.done, cross.complete, cross.week.done) == (0, True, 3)


def test_weeks_count_from_the_steps_first_day_not_the_calendar():
    facts = plan(cross_training(), done=every("cross-train", [11, 12, 13]))
    assert task(facts, "cross-train", 13).week.done == 3
    # Day 14 (a Sunday, like day 7) starts the step's second week.
    assert task(facts, "cross-train", 14).week.done == 0
    assert adherence(facts, d(7), d(14), d(14)) == 1.0


def test_excused_days_shrink_the_week_and_freeze_the_score():
    facts = plan(cross_training(), done=every("cross-train", [12, 13]), excused=range(7, 12))
    assert adherence(facts, d(7), d(13), d(14)) == 1.0


def test_a_lowered_weekly_target_counts_the_sessions_already_done_that_week():
    # Three times a week, changed on day 10 to twice a week. One session on day 7, one on day 11: done for the week.
    facts = plan(
        cross_training(valid_until=d(10)),
        weekly("cross-train", 2, 7, valid_from=d(10)),
        done=every("cross-train", [7, 11]),
    )
    assert task(facts, "cross-train", 11).week.done == 2
    assert task(facts, "cross-train", 11).complete
    assert adherence(facts, d(7), d(13), d(14)) == 1.0


def test_a_new_version_mid_week_does_not_start_the_week_again():
    # The physio rewords cross-training on day 10; the patient had already done the week's three sessions.
    facts = plan(
        cross_training(valid_until=d(10)),
        weekly("cross-train", 3, 7, valid_from=d(10), label="Low-impact exercise (bike or pool)"),
        done=every("cross-train", [7, 8, 9]),
    )
    cross = task(facts, "cross-train", 10)
    assert (cross.week.quota, cross.week.done, cross.complete) == (3, 3, True)
    assert adherence(facts, d(7), d(13), d(14)) == 1.0


def test_a_step_stopped_mid_week_asks_nothing_more_of_the_days_it_ran():
    # One session on day 7; the clinician stops it from day 9. On days 7 and 8 five more days were to come.
    facts = plan(cross_training(valid_until=d(9)), done=every("cross-train", [7]))
    assert task(facts, "cross-train", 8).week.quota == 2
    assert adherence(facts, d(7), d(13), d(14)) == 1.0


def a_week_with_one_session_on_day_7(**changes):
    return plan(cross_training(**changes.pop("rules", {})), done=every("cross-train", [7]), **changes)


@pytest.mark.parametrize(
    "later",
    [
        {"excused": [12]},  # the patient takes today off ("It won't count against your progress")
        {"paused": 12},  # the clinician pauses the plan today
        {"rules": {"valid_until": d(12)}},  # the clinician stops the step from today
    ],
)
def test_what_happens_today_never_turns_yesterday_into_a_day_with_a_missed_session(later):
    # Today is day 12; on day 11 two days were left for the two sessions still to do: nothing was missed then.
    before = a_week_with_one_session_on_day_7()
    after = a_week_with_one_session_on_day_7(**later)
    for facts in (before, after):
        assert score_day(facts, d(11), d(12)) == DayScore(due=0, done=0)
        assert adherence(facts, d(7), d(11), d(12)) == 1.0
        assert day_level(facts, d(11), d(12)) == Level.REST  # nothing was due that day: not "some done"


def test_a_missed_session_is_still_counted_on_the_day_it_was_lost():
    # No session by day 11 with two days left for three: one was lost on day 11, whatever happens today.
    facts = plan(cross_training(), excused=[12])
    assert score_day(facts, d(11), d(12)).due == 1


def due_and_done(facts, first, last, today):
    scores = [score_day(facts, d(day), d(today)) for day in range(first, last + 1)]
    return sum(score.due for score in scores), sum(score.done for score in scores)


def test_a_step_shortened_on_the_first_day_of_a_new_week_does_not_reopen_the_week_before():
    # Sessions on days 8 and 10; on day 14 the clinician ends the step on day 15 (it had no last day).
    facts = plan(
        cross_training(valid_until=d(14)),
        weekly("cross-train", 3, 7, 15, valid_from=d(14)),
        done=every("cross-train", [8, 10]),
    )
    # Week 7-13, over and scored under the old version, stays three sessions (one missed); days 14-15 are a week
    # of their own, two days for two sessions. Before the fix the new version's week reached back to day 7.
    assert due_and_done(facts, 7, 15, 16) == (3 + 2, 2)


@pytest.mark.parametrize("sessions", [[], [8, 10], [13]])
def test_a_step_lengthened_by_a_day_mid_week_asks_its_weeks_sessions_once(sessions):
    # Days 7-13, changed on day 13 to end on day 14: one week of eight days, three sessions, each counted once
    # (done, or missed), though days 7-12 were scored in the shorter week and days 13-14 in the longer.
    facts = plan(
        weekly("cross-train", 3, 7, 13, valid_until=d(13)),
        weekly("cross-train", 3, 7, 14, valid_from=d(13)),
        done=every("cross-train", sessions),
    )
    assert due_and_done(facts, 7, 14, 15) == (3, len(sessions))


def test_a_steps_short_last_week_joins_the_week_before():
    # Days 7 to 14 (the clinic's early strength work): one week of eight days, three sessions.
    strength = weekly("strength", 3, 7, 14)
    facts = plan(strength, done=every("strength", [9, 11, 13]))
    assert week_tally(strength, facts, d(14), d(14)) == WeekTally(quota=3, done=3)
    assert task(facts, "strength", 14).complete  # not "0 of 1 sessions" on the lone last day
    assert adherence(facts, d(7), d(14), d(15)) == 1.0
    # A last week of four days or more stays a week of its own (days 14 to 17 of a step running to day 17).
    longer = weekly("strength", 3, 7, 17)
    assert week_tally(longer, plan(longer), d(14), d(14)).quota == 3


# -- Streak ---------------------------------------------------------------------------------------------------------


def rest_and_ice(done_days, **facts):
    """Rest every day and ice three times a day on days 0-2, all done on ``done_days``."""
    done = every("rest", done_days) + every("ice", [day for day in done_days if day <= 2], 3)
    return plan(step("rest", position=1), step("ice", 0, 2, doses_per_day=3, position=2), done=done, **facts)


def test_streak_runs_to_yesterday_while_today_is_open():
    assert streak(rest_and_ice(range(5)), d(5)) == 5


def test_streak_takes_today_once_it_is_complete():
    assert streak(rest_and_ice(range(6)), d(5)) == 6


def test_partly_done_today_neither_counts_nor_breaks():
    facts = rest_and_ice([0, 1, 2])
    facts.done[("ice", d(2))] = 2  # today: rest done, ice 2 of 3
    assert streak(facts, d(2)) == 2
    facts.done[("ice", d(2))] = 3
    assert streak(facts, d(2)) == 3


def test_streak_is_broken_by_an_incomplete_day():
    facts = rest_and_ice([0, 1, 2, 3, 4])
    facts.done[("ice", d(2))] = 2
    assert streak(facts, d(5)) == 2  # days 3 and 4


def test_a_missed_yesterday_resets_the_streak():
    assert streak(rest_and_ice([0, 1, 2, 3]), d(5)) == 0
    assert streak(rest_and_ice([0, 1, 2, 3, 5]), d(5)) == 1


def test_excused_days_neither_break_nor_count():
    assert streak(rest_and_ice([0, 1, 3, 4], excused=[2]), d(5)) == 4


def test_an_excused_today_keeps_yesterdays_streak():
    assert streak(rest_and_ice([0, 1, 2], excused=[3]), d(3)) == 3


def test_days_with_nothing_due_are_skipped():
    facts = plan(step("ice", 0, 1), step("walk", 3, position=2), done=every("ice", [0, 1]) + every("walk", [3]))
    assert streak(facts, d(4)) == 3


def test_streak_stops_at_race_day():
    facts = rest_and_ice(range(-5, 4))
    assert streak(facts, d(3)) == 4


def test_no_streak_before_the_race():
    assert streak(rest_and_ice([-2, -1]), d(-1)) == 0


def test_streak_counts_completed_weekly_sessions():
    # Three sessions in week one, done on days 7-9: days 10-13 have nothing due and are skipped.
    facts = plan(cross_training(), done=every("cross-train", [7, 8, 9]))
    assert streak(facts, d(14)) == 3
    # The second week: nothing is missed yet on day 14, so nothing breaks.
    assert streak(facts, d(15)) == 3


def test_a_missed_weekly_session_breaks_the_streak_on_the_day_it_is_lost():
    # Rest done every day; cross-training only on days 7 and 8, so the third session is lost at the end of day 13.
    facts = plan(step("rest"), cross_training(position=2), done=every("rest", range(15)) + every("cross-train", [7, 8]))
    assert streak(facts, d(13)) == 13  # days 0-12; today would be incomplete if it ended now, but it has not
    assert streak(facts, d(14)) == 1  # only today: day 13 lost a session


# -- Ticking --------------------------------------------------------------------------------------------------------


TODAY = d(5)


@pytest.mark.parametrize(
    ("key", "day", "count", "problem"),
    [
        ("rest", 6, 1, "You can't tick off a day that hasn't happened yet."),
        ("rest", 2, 1, "That day is too far back to change. You can fill in today and the two days before."),
        ("yoga", 5, 1, "That task isn't on your plan for that day."),
        ("ice", 5, 1, "That task isn't on your plan for that day."),  # ice ended on day 2
        ("stretch", 5, 1, "Unlocks after a check-in, once your pain is 3/10 or less."),  # no pain recorded
        ("rest", 5, -1, "Choose a number from 0 to 1."),
        ("rest", 5, 2, "Choose a number from 0 to 1."),
        ("rest", 5, 1, None),
        ("rest", 5, 0, None),
        ("rest", 4, 1, None),
        ("rest", 3, 1, None),
    ],
)
def test_tick_problem(key, day, count, problem):
    assert tick_problem(clinic_plan(), key, d(day), count, TODAY) == problem


@pytest.mark.parametrize(
    ("count", "problem"),
    [(-1, "Choose a number from 0 to 3."), (0, None), (3, None), (4, "Choose a number from 0 to 3.")],
)
def test_ice_takes_a_count_from_zero_to_three(count, problem):
    assert tick_problem(clinic_plan(), "ice", d(2), count, d(2)) == problem


CHANGED_TO = "This changed on another device: {}. Tap again if you meant to change it."


@pytest.mark.parametrize(
    ("stored", "shown", "count", "problem"),
    [
        (0, 0, 1, None),  # a tap on what the page showed
        (2, 2, 1, None),  # "Undo one"
        (1, 0, 1, None),  # the second tap of a double tap: what the first wrote, harmless and said nothing of
        (0, 1, 0, None),  # the same for "Undo one"
        (3, 1, 0, CHANGED_TO.format("3 of 3 done now")),  # a laptop's "Undo one" would wipe the phone's three
        (3, 1, 2, CHANGED_TO.format("3 of 3 done now")),
        (2, 0, 1, CHANGED_TO.format("2 of 3 done now")),
        (1, 2, 3, CHANGED_TO.format("1 of 3 done now")),
    ],
)
def test_a_tick_made_from_a_count_another_device_has_changed_since_is_refused(stored, shown, count, problem):
    facts = clinic_plan(done=[("ice", 1, stored)] if stored else [])
    assert tick_problem(facts, "ice", d(1), count, d(1), shown=shown) == problem
    assert tick_problem(facts, "ice", d(1), count, d(1)) is None  # not known what the page showed: taken as sent


def test_a_once_a_day_task_changed_on_another_device_says_whether_it_is_done_now():
    done, not_done = clinic_plan(done=[("rest", 1, 1)]), clinic_plan()
    assert tick_problem(done, "rest", d(1), 0, d(1), shown=0) == CHANGED_TO.format("it is marked as done now")
    assert tick_problem(not_done, "rest", d(1), 1, d(1), shown=1) == CHANGED_TO.format("it is not marked as done now")


def test_a_page_opened_before_the_clinic_cut_a_tasks_doses_is_told_so_not_to_choose_a_number():
    facts = plan(
        step("ice", 0, 5, doses_per_day=3, valid_until=d(1)),
        step("ice", 0, 5, doses_per_day=1, valid_from=d(1)),
        done=[("ice", 1, 1)],
    )
    changed = "The clinic has changed this task since this page was opened: it is now once a day."
    assert tick_problem(facts, "ice", d(1), 2, d(1), shown=1) == f"{changed} Nothing was ticked."  # "1 of 3"
    assert tick_problem(facts, "ice", d(1), 2, d(1), shown=3) == f"{changed} Nothing was undone."  # "3 of 3"
    assert tick_problem(facts, "ice", d(1), 0, d(1), shown=1) is None  # an undo the task still allows
    assert tick_problem(facts, "ice", d(1), 2, d(1)) == "Choose a number from 0 to 1."  # not from a page


def test_a_weekly_session_is_ticked_once_a_day():
    facts = clinic_plan(pain={7: 2})
    assert tick_problem(facts, "cross-train", d(7), 1, d(7)) is None
    assert tick_problem(facts, "cross-train", d(7), 2, d(7)) == "Choose a number from 0 to 1."


def test_clearance_locked_step_cannot_be_ticked():
    assert tick_problem(clinic_plan(), "warm-up", d(21), 1, d(21)) == "Unlocks once your clinician clears you to run."
    assert tick_problem(clinic_plan(cleared_on=d(21)), "warm-up", d(21), 1, d(21)) is None


def test_a_tick_on_a_task_locked_later_that_day_can_still_be_undone():
    # Stretches ticked at pain 2; a check-in at pain 6 later the same day locks them.
    facts = clinic_plan(pain={5: 6}, done=[("stretch", 5, 1)])
    assert tick_problem(facts, "stretch", d(5), 0, d(5)) is None
    assert tick_problem(facts, "stretch", d(5), 1, d(5)) is None  # a retried tick changes nothing
    untouched = clinic_plan(pain={5: 6})  # at the stop level: the banner's words, not the gate's
    assert tick_problem(untouched, "stretch", d(5), 1, d(5)).startswith("On hold because of your pain score")
    amber = clinic_plan(pain={5: 5})
    assert tick_problem(amber, "stretch", d(5), 1, d(5)) == "Unlocks once your pain is 3/10 or less."


def test_editable_days_are_today_and_the_two_before():
    assert DAYS_BACK_EDITABLE == 2
    assert [day for day in range(1, 9) if is_editable(d(day), d(5))] == [3, 4, 5]


# -- Calendar -------------------------------------------------------------------------------------------------------


def calendar_plan():
    """Walk days 0-6 and ice on days 0-2; a stretch from day 9. Today is day 10, a Wednesday."""
    done = [("walk", 0, 1), ("ice", 0, 3), ("walk", 1, 1), ("ice", 1, 1), ("walk", 3, 1), ("stretch", 9, 1)]
    done += every("walk", [4, 5, 6])
    return plan(
        step("walk", 0, 6, position=1),
        step("ice", 0, 2, doses_per_day=3, position=2),
        step("stretch", 9, position=3),
        done=done,
        excused=[3],
    )


def test_calendar_is_four_weeks_monday_first_ending_with_this_week():
    rows = calendar(calendar_plan(), d(10))
    assert [len(row) for row in rows] == [7, 7, 7, 7]
    dates = [date for row in rows for date, _level in row]
    assert all(row[0][0].weekday() == 0 for row in rows)
    assert dates == [dates[0] + datetime.timedelta(days=n) for n in range(28)]
    assert dates[0] == d(-13) and dates[-1] == d(14)  # Monday 14 April to Sunday 11 May 2025


def test_calendar_colours():
    levels = {date: level for row in calendar(calendar_plan(), d(10)) for date, level in row}
    assert {day: levels[d(day)] for day in range(-1, 15)} == {
        -1: Level.BEFORE,
        0: Level.FULL,
        1: Level.PART,  # walk done, ice 1 of 3
        2: Level.NONE,
        3: Level.EXCUSED,
        4: Level.FULL,
        5: Level.FULL,
        6: Level.FULL,
        7: Level.REST,  # nothing on the plan
        8: Level.REST,
        9: Level.FULL,
        10: Level.NONE,  # today, nothing ticked yet
        11: Level.FUTURE,
        12: Level.FUTURE,
        13: Level.FUTURE,
        14: Level.FUTURE,
    }
    assert all(levels[d(day)] == Level.BEFORE for day in range(-13, 0))


def test_today_on_the_calendar_fills_as_it_is_ticked():
    facts = calendar_plan()
    facts.done[("stretch", d(10))] = 1
    assert day_level(facts, d(10), d(10)) == Level.FULL


def test_a_locked_day_is_a_rest_day_on_the_calendar():
    assert day_level(plan(pain_gated("stretch")), d(1), d(3)) == Level.REST


def test_last_days_and_pain_series():
    assert last_days(d(3), 3) == [d(1), d(2), d(3)]
    assert pain_series({d(1): 4, d(3): 2, d(9): 1}, last_days(d(3), 3)) == [(d(1), 4), (d(3), 2)]


# -- A year of a big plan --------------------------------------------------------------------------------------------


def year_plan():
    """15 daily steps (1, 2 or 3 doses) and 15 weekly ones (1 to 6 times), all from race day, for a year.

    Daily steps are done fully on even days only; weekly steps on the first two days of each week.
    """
    steps = [step(f"daily-{n}", doses_per_day=1 + n % 3, position=n) for n in range(15)]
    steps += [weekly(f"weekly-{n}", 1 + n % 6, position=15 + n) for n in range(15)]
    done = [(s.key, day, s.doses_per_day) for s in steps[:15] for day in range(0, 364, 2)]
    done += [(s.key, day, 1) for s in steps[15:] for day in range(364) if day % 7 < 2]
    return plan(*steps, done=done)


def test_a_year_of_thirty_steps():
    facts = year_plan()
    # 52 whole weeks (days 0-363). Daily: 30 doses a day, done on 182 of 364 days.
    # Weekly: 48 sessions a week asked for (1+2+...+6 twice, then 1+2+3), min(2, N) done = 27 a week.
    expected = (182 * 30 + 52 * 27) / (364 * 30 + 52 * 48)
    assert adherence(facts, d(0), d(363), d(364)) == pytest.approx(expected)
    assert adherence(facts, d(0), d(364), d(364)) == pytest.approx(expected)  # today's open doses change nothing


def test_adherence_over_a_year_is_the_sum_of_its_days():
    rnd = random.Random(20250427)
    steps = []
    for n in range(30):
        gate = rnd.choice([Gate.NONE, Gate.NONE, Gate.PAIN, Gate.CLEARANCE])
        steps.append(
            StepRule(
                key=f"s{n}",
                label=f"Step {n}",
                position=n,
                first_day=rnd.randint(0, 30),
                last_day=rnd.choice([None, rnd.randint(40, 300)]),
                doses_per_day=1 if n % 2 else rnd.randint(1, 3),
                times_per_week=rnd.randint(1, 6) if n % 2 else None,
                gate=gate,
                gate_pain_max=3 if gate == Gate.PAIN else None,
            )
        )
    facts = PlanFacts(
        race_date=RACE,
        steps=steps,
        cleared_on=d(60),
        pain_by_date={d(day): rnd.randint(0, 6) for day in range(366) if rnd.random() < 0.4},
        done={(s.key, d(day)): rnd.randint(1, 3) for s in steps for day in range(366) if rnd.random() < 0.6},
        excused={d(day) for day in range(366) if rnd.random() < 0.05},
    )
    today = d(365)
    scores = [score_day(facts, d(day), today) for day in range(366)]
    done, due = sum(score.done for score in scores), sum(score.due for score in scores)
    assert adherence(facts, d(0), today, today) == done / due
    naive_streak = 0
    for day in range(364, -1, -1):
        score = scores[day]
        if d(day) in facts.excused or score.due == 0:
            continue
        if not score.complete:
            break
        naive_streak += 1
    today_score = score_day(facts, today, today, day_closed=True)
    assert streak(facts, today) == naive_streak + (1 if today_score.complete else 0)
    assert [[level for _date, level in row] for row in calendar(facts, today)] == [
        [day_level(facts, date, today) for date, _level in row] for row in calendar(facts, today)
    ]
    # The progress page asks all of these with one memo (recovery/views/progress.py): the answers stay the same.
    shared = {}
    assert streak(facts, today, memo=shared) == streak(facts, today)
    assert adherence(facts, d(359), today, today, memo=shared) == adherence(facts, d(359), today, today)
    assert adherence(facts, d(0), today, today, memo=shared) == done / due
    assert calendar(facts, today, memo=shared) == calendar(facts, today)

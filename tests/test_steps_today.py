"""The clinician's steps table says what each step asks of the patient today (dose, days, what holds it), on the
patient's page and on the printed visit summary: the prescription in force, beside its adherence."""

import datetime
import re
from html import unescape

import pytest
from django.urls import reverse

from recovery import care
from recovery.clock import clinic_today
from recovery.models import RecoveryPlan
from recovery.services import day_excuse
from tests.factories import CheckInFactory, CompletionFactory, make_plan

ONE_DAY = datetime.timedelta(days=1)


def today_column(client, plan, page="admin:recovery_recoveryplan_change"):
    html = client.get(reverse(page, args=[plan.pk])).text
    rows = re.findall(r'<tr data-step="([\w-]+)"><td>[^<]*</td><td>([^<]*)</td>', html)
    return {key: unescape(now) for key, now in rows}


@pytest.fixture
def day_nine(db):
    plan = make_plan(days_since_race=9)
    CheckInFactory(plan=plan, date=clinic_today() - ONE_DAY, pain=2)
    return plan


def test_each_step_says_its_dose_and_days_or_when_it_ended_or_starts(clinician_client, day_nine):
    today = today_column(clinician_client, day_nine)

    assert today["nutrition"] == "Once a day, days 0–13."
    assert today["check-in"] == "Once a day, from race day."
    assert today["stretch"] == "Once a day, from day 4."
    assert today["strength-early"] == "Up to 3 times a week, days 7–14."
    assert today["ice"] == "Ended on day 2."
    assert today["strength"] == "From day 15."
    assert today["warm-up"] == "From day 21, once cleared to run."


def test_a_step_held_by_pain_says_so_in_the_clinicians_words(clinician_client, day_nine):
    CheckInFactory(plan=day_nine, pain=5)

    today = today_column(clinician_client, day_nine)

    assert today["stretch"] == "Once a day, from day 4. Held: the latest pain, 5/10, is above 3/10."
    assert today["nutrition"] == "Once a day, days 0–13."  # not gated: never held


def test_a_warning_sign_and_a_pause_hold_the_gated_steps(clinician_client, day_nine):
    CheckInFactory(plan=day_nine, pain=1, groin_pain_on_weight=True)
    assert today_column(clinician_client, day_nine)["stretch"].endswith("Held: a warning sign in the latest check-in.")

    care.plan_set_status(plan=day_nine, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    assert today_column(clinician_client, day_nine)["stretch"].endswith("Held: the plan is paused.")


def test_a_changed_and_a_stopped_step_read_as_the_patient_now_has_them(clinician_client, day_nine):
    today = clinic_today()
    care.plan_step_change(plan=day_nine, key="nutrition", from_date=today, today=today, doses_per_day=2)
    care.plan_step_stop(plan=day_nine, key="stretch", from_date=today, today=today)
    care.plan_step_change(plan=day_nine, key="check-in", from_date=today + ONE_DAY, today=today, last_day=20)

    column = today_column(clinician_client, day_nine)

    assert column["nutrition"] == "2 times a day, days 0–13."
    assert column["stretch"] == f"Stopped from {today:%-d %b}."
    # The change waits for tomorrow, and the clinician sees it coming.
    assert column["check-in"] == f"Once a day, from race day. From {today + ONE_DAY:%-d %b}: once a day, days 0–20."


def test_the_visit_summary_prints_the_same_words_for_the_steps_under_way(clinician_client, day_nine):
    summary = today_column(clinician_client, day_nine, "admin:recovery_plan_visit_summary")

    assert summary["nutrition"] == "Once a day, days 0–13."
    assert "warm-up" not in summary  # still to come: the patient's page lists it, the one-page summary does not


def test_a_discharged_plan_asks_nothing_today(clinician_client, day_nine):
    care.plan_set_status(plan=day_nine, status=RecoveryPlan.Status.COMPLETED, today=clinic_today())

    assert set(today_column(clinician_client, day_nine).values()) == {"–"}


def test_the_column_says_what_the_patient_sees_on_a_pause_a_stop_a_met_week_and_a_day_off(clinician_client, day_nine):
    today = clinic_today()
    CheckInFactory(plan=day_nine, pain=8)
    column = today_column(clinician_client, day_nine)
    assert column["stretch"].endswith("Held: pain 8/10 in the latest check-in, at the stop level (6 or more).")

    care.plan_set_status(plan=day_nine, status=RecoveryPlan.Status.PAUSED, today=today)
    column = today_column(clinician_client, day_nine)
    assert column["rest"].endswith("Plan paused: the patient keeps this up, with nothing to tick.")  # not "held"

    care.plan_set_status(plan=day_nine, status=RecoveryPlan.Status.ACTIVE, today=today)
    day_excuse(plan=day_nine, date=today, today=today, reason="flu")
    html = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[day_nine.pk])).text
    assert "Today (day 9, a day off)" in html


def test_a_weekly_step_whose_sessions_are_done_says_so(clinician_client):
    plan = make_plan(days_since_race=12)  # low-impact exercise: 3 sessions in days 7–13, once pain allows
    for days_ago in (1, 2, 3):
        CheckInFactory(plan=plan, date=clinic_today() - days_ago * ONE_DAY, pain=1)
        CompletionFactory(plan=plan, step_key="cross-train", date=clinic_today() - days_ago * ONE_DAY)

    assert "This week's sessions are done." in today_column(clinician_client, plan)["cross-train"]


def test_a_stop_set_for_tomorrow_shows_today(clinician_client, day_nine):
    tomorrow = clinic_today() + ONE_DAY
    care.plan_step_stop(plan=day_nine, key="nutrition", from_date=tomorrow, today=clinic_today())

    assert (
        today_column(clinician_client, day_nine)["nutrition"] == f"Once a day, days 0–13. Stops from {tomorrow:%-d %b}."
    )

"""Who is keeping up: each plan's share of last week's tasks done, stored by the clinic's clock so that the
patients list can filter and sort 10,000 plans on it, and the same number the row shows."""

import datetime
import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from jobs.sweep import sweep
from recovery import rules
from recovery.care import plan_set_status, plan_step_stop
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import Completion, ExcusedDay, RecoveryPlan
from recovery.services import completion_set
from recovery.summaries import last_week_store, last_week_store_due
from tests.factories import CheckInFactory, PatientFactory, make_plan
from tests.test_clinician_admin import PLANS_URL, row_of
from tests.test_today import tick
from tests.test_workspace import panel

pytestmark = pytest.mark.django_db

CLINIC_ZONE = ZoneInfo("Europe/London")


BEHIND = PLANS_URL + "?done=under-50"
KEEPING_UP = PLANS_URL + "?done=80-plus"


def stored(plan):
    plan.refresh_from_db()
    return plan.last_week_percent, plan.last_week_ends_on


def finish(plan, date):
    """Every task of ``date`` done."""
    facts = facts_for_plan(plan, date - datetime.timedelta(days=6), clinic_today())
    Completion.objects.bulk_create(
        Completion(plan=plan, step_key=task.key, date=date, count=task.target)
        for task in rules.tasks_on(facts, date, clinic_today())
        if task.lock is None
    )


def a_behind_and_a_diligent_patient():
    """Two patients the day after their race, enrolled on race day: one did every task that day, the other none."""
    behind = make_plan(PatientFactory(email="behind@example.com"), days_since_race=1, enrolled_days_ago=1)
    diligent = make_plan(PatientFactory(email="diligent@example.com"), days_since_race=1, enrolled_days_ago=1)
    finish(diligent, clinic_today() - datetime.timedelta(days=1))
    return behind, diligent


def adherence_cell(html, email):
    return re.search(r'<td class="field-adherence">([^<]*)</td>', row_of(html, email))[1]


def test_the_sweep_stores_each_active_plans_last_week_as_the_list_shows_it(clinician_client):
    behind, diligent = a_behind_and_a_diligent_patient()
    paused = make_plan(days_since_race=1, enrolled_days_ago=1)
    RecoveryPlan.objects.filter(pk=paused.pk).update(status="paused", paused_on=clinic_today())
    assert sweep().counts["plans' last week stored"] == 2  # not the paused plan: neither behind nor keeping up
    yesterday = clinic_today() - datetime.timedelta(days=1)
    assert stored(behind) == (0, yesterday) and stored(diligent) == (100, yesterday)
    html = clinician_client.get(PLANS_URL).content.decode()
    assert adherence_cell(html, "behind@example.com") == "0%"
    assert adherence_cell(html, "diligent@example.com") == "100%"
    assert sweep().counts["plans' last week stored"] == 0  # once a day, not once a minute
    assert stored(paused) == (None, None)


def test_the_list_filters_patients_by_their_share_of_last_week(clinician_client):
    a_behind_and_a_diligent_patient()
    fresh = make_plan(PatientFactory(email="new@example.com"), days_since_race=2)  # enrolled today: no score yet
    last_week_store(today=clinic_today())
    html = clinician_client.get(BEHIND).content.decode()
    assert "behind@example.com" in html and "diligent@example.com" not in html and "new@example.com" not in html
    html = clinician_client.get(KEEPING_UP).content.decode()
    assert "diligent@example.com" in html and "behind@example.com" not in html and "new@example.com" not in html
    assert stored(fresh)[0] is None
    html = clinician_client.get(PLANS_URL).content.decode()
    assert "By done, 7 days to yesterday" in html and "Under 50%" in html  # the filter, in the sidebar


def test_a_plan_stored_for_an_earlier_week_is_in_no_band_until_the_sweep(clinician_client):
    behind, _ = a_behind_and_a_diligent_patient()
    last_week_store(today=clinic_today() - datetime.timedelta(days=1))  # yesterday's sweep, before midnight
    assert "behind@example.com" not in clinician_client.get(BEHIND).content.decode()
    last_week_store(today=clinic_today())
    assert "behind@example.com" in clinician_client.get(BEHIND).content.decode()


def test_the_list_sorts_by_last_week_with_the_least_done_first_and_no_score_last(clinician_client):
    a_behind_and_a_diligent_patient()
    make_plan(PatientFactory(email="new@example.com"), days_since_race=2)
    last_week_store(today=clinic_today())
    html = clinician_client.get(PLANS_URL).content.decode()
    header = html[html.index('class="sortable column-adherence') :]
    sort_link = unescape(re.search(r'href="([^"]+)"', header)[1])
    html = clinician_client.get(PLANS_URL + sort_link).content.decode()
    assert sorted(["new@", "diligent@", "behind@"], key=html.index) == ["behind@", "diligent@", "new@"]
    # A number cleared by a late change sorts with those still to be worked out, not by what it was.
    RecoveryPlan.objects.filter(patient__email="behind@example.com").update(last_week_ends_on=None)
    html = clinician_client.get(PLANS_URL + sort_link).content.decode()
    assert sorted(["diligent@", "behind@"], key=html.index) == ["diligent@", "behind@"]


def test_the_list_sorted_the_other_way_has_the_most_done_first_and_still_no_score_last(clinician_client):
    a_behind_and_a_diligent_patient()
    make_plan(PatientFactory(email="new@example.com"), days_since_race=2)
    last_week_store(today=clinic_today())
    html = clinician_client.get(PLANS_URL).content.decode()
    column = re.search(r'class="sortable column-adherence.*?href="\?o=(\d+)"', html, re.S)[1]
    html = clinician_client.get(f"{PLANS_URL}?o=-{column}").content.decode()
    assert sorted(["new@", "diligent@", "behind@"], key=html.index) == ["diligent@", "behind@", "new@"]


def test_a_late_tick_moves_the_patient_out_of_behind_after_the_next_sweep(clinician_client, patient_client, patient):
    plan = make_plan(patient, days_since_race=1, enrolled_days_ago=1)
    last_week_store(today=clinic_today())
    assert "alice@example.com" in clinician_client.get(BEHIND).content.decode()

    # This morning Alice ticks off yesterday's ice, which she had forgotten.
    yesterday = clinic_today() - datetime.timedelta(days=1)
    tick(patient_client, plan, "ice", 3, date=yesterday)
    assert stored(plan) == (0, None)  # cleared: not listed under a share it no longer has
    assert "alice@example.com" not in clinician_client.get(BEHIND).content.decode()

    assert sweep().counts["plans' last week stored"] == 1
    assert stored(plan)[0] > 0
    row = row_of(clinician_client.get(PLANS_URL).content.decode(), "alice@example.com")
    assert f'<td class="field-adherence">{plan.last_week_percent}%</td>' in row


def test_a_late_day_off_is_taken_out_of_last_week(patient_client, patient):
    plan = make_plan(patient, days_since_race=1, enrolled_days_ago=1)
    last_week_store(today=clinic_today())
    assert stored(plan)[0] == 0
    yesterday = clinic_today() - datetime.timedelta(days=1)
    patient_client.post(reverse("recovery:excuse"), {"date": yesterday.isoformat(), "reason": "flu"})
    last_week_store(today=clinic_today())
    assert stored(plan)[0] is None  # the only day over was a day off: nothing was due


def test_the_days_of_a_pause_leave_last_week_when_it_ends():
    today = clinic_today()
    plan = make_plan(days_since_race=8, enrolled_days_ago=8)
    for days_ago in range(4, 8):  # every task of the four days before the pause done
        finish(plan, today - datetime.timedelta(days=days_ago))
    RecoveryPlan.objects.filter(pk=plan.pk).update(status="paused", paused_on=today - datetime.timedelta(days=3))
    plan.refresh_from_db()
    plan_set_status(plan=plan, status="active", today=today)
    last_week_store(today=today)
    assert stored(plan)[0] == 100  # the three days on hold are neither due nor missed


def test_the_sweep_stores_at_most_its_share_and_the_next_one_goes_on():
    plans = [make_plan(days_since_race=3, enrolled_days_ago=3) for _ in range(3)]
    assert last_week_store(today=clinic_today(), most=2) == 2
    assert last_week_store(today=clinic_today(), most=2) == 1
    assert all(stored(plan)[1] == clinic_today() - datetime.timedelta(days=1) for plan in plans)


@pytest.mark.parametrize("count", [2, 30])
def test_the_sweep_reads_the_plans_in_a_fixed_number_of_queries(database_only, django_assert_num_queries, count):
    for _ in range(count):
        make_plan(days_since_race=3, enrolled_days_ago=3)
    # One batch: its plans (locked), their steps, phases and days (one query each) and one UPDATE; and the
    # savepoint that the test's own transaction turns the batch's transaction into, and its release.
    with django_assert_num_queries(7):
        assert last_week_store(today=clinic_today()) == count


def test_the_workspace_home_counts_the_patients_behind_and_links_to_them(clinician_client):
    a_behind_and_a_diligent_patient()
    last_week_store(today=clinic_today())
    line = panel(clinician_client)["Patients with under 50% of their tasks done in the 7 days to yesterday"]
    assert line[:2] == ("1", "/admin/recovery/recoveryplan/?done=under-50")
    listed = clinician_client.get(line[1]).context["cl"].result_list
    assert [plan.patient.email for plan in listed] == ["behind@example.com"]


def test_a_race_date_corrected_on_the_plans_page_is_worked_out_again(clinician_client):
    behind, _ = a_behind_and_a_diligent_patient()
    last_week_store(today=clinic_today())
    url = reverse("admin:recovery_recoveryplan_change", args=[behind.pk])
    form = clinician_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if name in form.fields and value is not None}
    data |= {"race_date": clinic_today().isoformat(), "clinician": ""}  # the race was today, not yesterday
    data |= {f"steps-{key}": value for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()}
    clinician_client.post(url, data)
    assert stored(behind)[1] is None  # cleared: in no band until it is worked out again
    assert "behind@example.com" not in clinician_client.get(BEHIND).content.decode()
    last_week_store(today=clinic_today())
    assert stored(behind) == (None, clinic_today() - datetime.timedelta(days=1))  # no whole day since the race


TODAYS_CHANGES = {
    "a session ticked": lambda plan, today: completion_set(
        plan=plan, step_key="cross-train", date=today, count=1, today=today
    ),
    "a day off": lambda plan, today: ExcusedDay.objects.create(plan=plan, date=today, reason="flu"),
    "high pain": lambda plan, today: CheckInFactory(plan=plan, date=today, pain=7),
    "a step stopped": lambda plan, today: plan_step_stop(plan=plan, key="cross-train", from_date=today, today=today),
}


@pytest.mark.parametrize("change", TODAYS_CHANGES)
def test_what_happens_today_does_not_move_last_weeks_number_though_a_weekly_step_looks_ahead(clinician_client, change):
    """Day 13 closes the first week of the two 3-a-week exercises (days 7 to 13). Two sessions of each done by
    yesterday leave one for today: closing today to them would make yesterday's third sessions missed after the
    fact."""
    today = clinic_today()
    plan = make_plan(PatientFactory(email="weekly@example.com"), days_since_race=13, enrolled_days_ago=13)
    for day in range(13):
        CheckInFactory(plan=plan, date=plan.race_date + datetime.timedelta(days=day), pain=2)
        finish(plan, plan.race_date + datetime.timedelta(days=day))
    weekly = ["strength-early", "cross-train"]
    sessions = [plan.race_date + datetime.timedelta(days=day) for day in (7, 9)]
    Completion.objects.filter(plan=plan, step_key__in=weekly).exclude(date__in=sessions).delete()
    last_week_store(today=today)
    before = stored(plan)
    assert before[0] == 100
    TODAYS_CHANGES[change](plan, today)
    html = clinician_client.get(PLANS_URL).content.decode()
    assert adherence_cell(html, "weekly@example.com") == "100%"
    last_week_store(today=today)
    assert stored(plan) == before


def test_a_withdrawn_clearance_is_worked_out_again(clinician_client):
    plan = make_plan(PatientFactory(email="runner@example.com"), days_since_race=24, enrolled_days_ago=24)
    RecoveryPlan.objects.filter(pk=plan.pk).update(cleared_to_run_on=clinic_today() - datetime.timedelta(days=3))
    last_week_store(today=clinic_today())
    clinician_client.post(reverse("admin:recovery_plan_sign_off", args=[plan.pk]), {"withdraw": "1"})
    assert stored(plan)[1] is None  # the running steps of the last three days are no longer due
    last_week_store(today=clinic_today())
    html = clinician_client.get(PLANS_URL).content.decode()
    assert adherence_cell(html, "runner@example.com") == f"{stored(plan)[0]}%"


def test_the_list_and_the_plans_page_count_a_weekly_step_whose_week_began_before_last_week(clinician_client):
    """Day 19: last week is days 12 to 18, and the 3-a-week exercise's week of days 7 to 13 holds its first two
    days. Its sessions of days 7, 9 and 11 met that week's three, so days 12 and 13 miss none."""
    plan = make_plan(PatientFactory(email="weekly@example.com"), days_since_race=19, enrolled_days_ago=19)
    for day in range(19):
        CheckInFactory(plan=plan, date=plan.race_date + datetime.timedelta(days=day), pain=2)
        finish(plan, plan.race_date + datetime.timedelta(days=day))
    sessions = [plan.race_date + datetime.timedelta(days=day) for day in (7, 9, 11, 14, 16, 18)]
    Completion.objects.filter(plan=plan, step_key="cross-train").exclude(date__in=sessions).delete()
    last_week_store(today=clinic_today())
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).content.decode()
    assert "Done in the 7 days to yesterday: <strong>100%</strong>" in page
    assert stored(plan)[0] == 100
    html = clinician_client.get(PLANS_URL).content.decode()
    assert adherence_cell(html, "weekly@example.com") == "100%"


def test_the_clock_starts_on_a_new_days_numbers_five_minutes_after_midnight(settings):
    """A tick sent for "today" a moment before midnight is saved by then: it is counted."""
    settings.TIME_ZONE = "Europe/London"
    midnight = datetime.datetime(2026, 6, 10, tzinfo=CLINIC_ZONE)
    with time_machine.travel(midnight - datetime.timedelta(days=2), tick=False):
        plan = make_plan(days_since_race=1, enrolled_days_ago=1)
    with time_machine.travel(midnight + datetime.timedelta(minutes=2), tick=False):
        last_week_store_due(now=midnight + datetime.timedelta(minutes=2))
        assert stored(plan)[1] == datetime.date(2026, 6, 8)  # still the day before's week
    with time_machine.travel(midnight + datetime.timedelta(minutes=6), tick=False):
        assert last_week_store_due(now=midnight + datetime.timedelta(minutes=6)) == 1
        assert stored(plan)[1] == datetime.date(2026, 6, 9)


def test_a_switched_off_patient_is_neither_behind_nor_inactive(clinician_client):
    behind, _ = a_behind_and_a_diligent_patient()
    RecoveryPlan.objects.filter(pk=behind.pk).update(last_activity_on=clinic_today() - datetime.timedelta(days=9))
    last_week_store(today=clinic_today())
    assert "behind@example.com" in clinician_client.get(BEHIND).content.decode()
    assert "behind@example.com" in clinician_client.get(PLANS_URL + "?activity=inactive").content.decode()
    behind.patient.is_active = False  # reception switched the account off: the patient cannot log anything
    behind.patient.save()
    assert "behind@example.com" not in clinician_client.get(BEHIND).content.decode()
    assert "behind@example.com" not in clinician_client.get(PLANS_URL + "?activity=inactive").content.decode()
    assert "inactive" not in row_of(clinician_client.get(PLANS_URL).content.decode(), "behind@example.com")


def test_the_row_reads_the_number_the_clock_stored_while_it_holds_and_works_it_out_once_cleared(clinician_client):
    behind, _ = a_behind_and_a_diligent_patient()
    last_week_store(today=clinic_today())
    # As the filter and the sort read it (the stored number stands in for the work of the whole week's rules):
    RecoveryPlan.objects.filter(pk=behind.pk).update(last_week_percent=42)
    assert adherence_cell(clinician_client.get(PLANS_URL).text, "behind@example.com") == "42%"
    # Cleared by a change to one of its days: the row works it out again, as the next sweep will.
    RecoveryPlan.objects.filter(pk=behind.pk).update(last_week_ends_on=None)
    assert adherence_cell(clinician_client.get(PLANS_URL).text, "behind@example.com") == "0%"


def test_a_paused_plans_row_shows_no_share_as_the_sort_and_the_bands_have_none(clinician_client):
    _, diligent = a_behind_and_a_diligent_patient()
    plan_set_status(plan=diligent, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    last_week_store(today=clinic_today())
    assert adherence_cell(clinician_client.get(PLANS_URL).text, "diligent@example.com") == "–"
    assert "diligent@example.com" not in clinician_client.get(KEEPING_UP).text

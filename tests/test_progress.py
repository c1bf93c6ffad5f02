"""/progress/: day and phase, streak, adherence, the four-week calendar and the pain chart."""

import datetime
import re

import pytest
from django.urls import reverse

from recovery.care import plan_clear_to_run
from recovery.clock import clinic_today
from recovery.models import CheckIn, Completion, PlanStep
from tests.factories import CheckInFactory, PatientFactory, make_plan
from tests.test_today import _extra_steps, _history, tick

pytestmark = pytest.mark.django_db

PROGRESS_URL = "/progress/"


def stat(response, name):
    html = response.content.decode()
    match = re.search(rf'data-stat="{name}"><span class="stat-value">([^<]+)</span>', html)
    return match.group(1)


def finish_day(client, plan, date):
    """Tick every open task of ``date`` to its full count, as a diligent patient would."""
    back = (clinic_today() - date).days
    page = client.get(f"/today/?back={back}" if back else "/today/").content.decode()
    for key, target, locked in re.findall(
        r'data-task="([^"]+)" data-done="\d+" data-target="(\d+)"\s+data-complete="\w+" data-locked="(\w+)"', page
    ):
        if locked == "false" and key == "check-in":
            check_in_on(plan, date)
        elif locked == "false":
            tick(client, plan, key, int(target), date=date)


def check_in_on(plan, date):
    """The day's check-in, as saved on that day, with the tick it gives its task: a pain of 4 (amber, no alert)
    keeps the pain-gated exercises as locked as no score at all, so the day's tasks stay the same."""
    if not CheckIn.objects.filter(plan=plan, date=date).exists():
        CheckInFactory(plan=plan, date=date, pain=4)
    Completion.objects.update_or_create(plan=plan, step_key="check-in", date=date, defaults={"count": 1})


def test_progress_shows_day_phase_streak_and_adherence(patient_client, patient):
    make_plan(patient, days_since_race=5, enrolled_days_ago=5)
    response = patient_client.get(PROGRESS_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Day 5 after your race" in html and "Early recovery" in html
    assert stat(response, "streak") == "0"
    assert stat(response, "week") == "0%"  # five days of nothing done


def test_ticking_ice_three_times_moves_adherence_and_streak(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    yesterday = clinic_today() - datetime.timedelta(days=1)
    finish_day(patient_client, plan, yesterday)
    before = patient_client.get(PROGRESS_URL)
    assert stat(before, "streak") == "1"
    assert stat(before, "week") == "100%"
    # Said before the night, not after: an unfinished today would break it.
    assert "Finish today's tasks to make it 2" in before.text
    # Today is not over: nothing is missed yet, so adherence stays at 100% while ticks go in.
    for count in (1, 2, 3):
        tick(patient_client, plan, "ice", count)
    after = patient_client.get(PROGRESS_URL)
    assert stat(after, "week") == "100%"
    finish_day(patient_client, plan, clinic_today())
    done = patient_client.get(PROGRESS_URL)
    assert stat(done, "streak") == "2" and "data-streak-hint" not in done.text


def test_no_streak_hint_on_a_day_off(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    finish_day(patient_client, plan, clinic_today() - datetime.timedelta(days=1))
    assert "data-streak-hint" in patient_client.get(PROGRESS_URL).text
    patient_client.post(reverse("recovery:excuse"), {"date": clinic_today().isoformat(), "reason": "flu"})
    day_off = patient_client.get(PROGRESS_URL)
    assert stat(day_off, "streak") == "1" and "data-streak-hint" not in day_off.text  # nothing to finish today


def test_a_missed_day_lowers_adherence_and_breaks_the_streak(patient_client, patient):
    plan = make_plan(patient, days_since_race=3, enrolled_days_ago=3)
    today = clinic_today()
    finish_day(patient_client, plan, today - datetime.timedelta(days=2))
    finish_day(patient_client, plan, today)  # yesterday left empty
    response = patient_client.get(PROGRESS_URL)
    assert stat(response, "streak") == "1"  # today only
    assert stat(response, "week") not in ("100%", "0%")


def test_a_day_off_freezes_the_score_instead_of_breaking_it(patient_client, patient):
    plan = make_plan(patient, days_since_race=2, enrolled_days_ago=2)
    today = clinic_today()
    finish_day(patient_client, plan, today - datetime.timedelta(days=2))
    before = patient_client.get(PROGRESS_URL)
    assert stat(before, "week") != "100%"  # yesterday's empty day counts against the patient
    patient_client.post(reverse("recovery:excuse"), {"date": (today - datetime.timedelta(days=1)).isoformat()})
    after = patient_client.get(PROGRESS_URL)
    assert stat(after, "week") == "100%"  # the day off is left out: the score holds
    assert stat(after, "streak") == "1"  # the day before still counts, the day off does not break it


def test_the_calendar_has_four_weeks_coloured_by_completion(patient_client, patient):
    plan = make_plan(patient, days_since_race=3, enrolled_days_ago=3)
    today = clinic_today()
    finish_day(patient_client, plan, today - datetime.timedelta(days=2))
    tick(patient_client, plan, "rest", 1, date=today - datetime.timedelta(days=1))
    html = patient_client.get(PROGRESS_URL).content.decode()
    levels = dict(re.findall(r'data-date="([\d-]+)" data-level="(\w+)"', html))
    assert len(levels) == 28
    assert levels[(today - datetime.timedelta(days=2)).isoformat()] == "full"
    assert levels[(today - datetime.timedelta(days=1)).isoformat()] == "part"
    assert levels[(today - datetime.timedelta(days=3)).isoformat()] == "none"  # race day, nothing ticked
    assert levels[(today - datetime.timedelta(days=4)).isoformat()] in ("before", "future")
    # Each square says it with a mark too, not by its shade of green alone; today's is still under way.
    marks = dict(
        re.findall(r'data-date="([\d-]+)"[^>]*>\s*<span aria-hidden="true">\d+<span class="calendar-mark">(.)', html)
    )
    assert [marks[(today - datetime.timedelta(days=back)).isoformat()] for back in (3, 2, 1)] == ["○", "✓", "½"]
    assert f"{today:%A} {today.day} {today:%B}: nothing done so far (today)" in html


def test_a_patient_enrolled_days_after_the_race_is_not_scored_on_days_before_joining(patient_client, patient):
    plan = make_plan(patient, days_since_race=10)  # enrolled at the front desk today
    response = patient_client.get(PROGRESS_URL)
    assert stat(response, "week") == "–" and stat(response, "overall") == "–"  # not "0%" on the first visit
    html = response.content.decode()
    assert "No score yet: it starts once your first whole day is over." in html
    yesterday = clinic_today() - datetime.timedelta(days=1)
    assert f'data-date="{yesterday.isoformat()}" data-level="untracked"' in html
    assert f"{yesterday:%A} {yesterday.day} {yesterday:%B}: before you joined" in html
    # The checklist still reaches back two days; a day filled in then counts.
    finish_day(patient_client, plan, yesterday)
    assert stat(patient_client.get(PROGRESS_URL), "overall") == "100%"


def test_the_pain_chart_is_svg_with_a_text_alternative(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    for back, pain in [(3, 5), (2, 4), (1, 2)]:
        CheckInFactory(plan=plan, date=clinic_today() - datetime.timedelta(days=back), pain=pain)
    html = patient_client.get(PROGRESS_URL).content.decode()
    assert '<svg class="pain-chart"' in html and 'role="img"' in html
    assert html.count('<circle class="dot"') == 3
    assert "<title" in html and "<table" in html
    assert "style=" not in html and "<script>" not in html  # the CSP forbids inline style and script
    # What its shaded bands mean, at the clinic's levels (4 and 6 by default).
    assert "Amber: pain of 4 or more, ease off." in html and "Red: 6 or more, stop and call the clinic." in html


def chart_dates(html):
    return re.search(r'<title id="pain-chart-title">Pain score by day, ([^<]+) to ([^<]+)</title>', html).groups()


def test_a_young_plans_chart_starts_on_race_day_an_older_one_four_weeks_back(patient_client, patient):
    today = clinic_today()
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=today - datetime.timedelta(days=1), pain=3)
    html = patient_client.get(PROGRESS_URL).content.decode()
    race_day = plan.race_date
    assert chart_dates(html) == (f"{race_day.day} {race_day:%b}", f"{today.day} {today:%b}")
    # The score of yesterday sits at 4/5 of the width on a five-day span, not squeezed to the right edge.
    left, width = 28, 320 - 28 - 8
    assert f'<circle class="dot" cx="{round(left + width * 4 / 5, 1)}"' in html

    plan.race_date = today - datetime.timedelta(days=60)
    plan.save()
    first = today - datetime.timedelta(days=27)
    assert chart_dates(patient_client.get(PROGRESS_URL).content.decode())[0] == f"{first.day} {first:%b}"


def test_no_check_ins_yet_says_so_instead_of_an_empty_chart(patient_client, patient):
    make_plan(patient, days_since_race=2)
    html = patient_client.get(PROGRESS_URL).content.decode()
    assert "No check-ins in the last four weeks yet." in html
    assert "<svg" not in html


def road_stages(html):
    return re.findall(r'<li class="road-stop road-\w+" data-stage="(\w+)"', html)


def test_the_road_shows_where_the_patient_is_and_what_comes_next(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    html = patient_client.get(PROGRESS_URL).content.decode()
    road = html[html.index('id="road-heading"') :]
    assert road_stages(html) == ["past", "current", "ahead", "ahead"]
    assert re.search(r'data-stage="current" aria-current="step">\s*<h3[^>]*>\s*Early recovery', road)
    strengthen = plan.race_date + datetime.timedelta(days=15)
    assert f"From {strengthen:%A} {strengthen.day} {strengthen:%B}, day 15" in road
    assert "Lunges and squats join the strength work; cross-training continues." in road  # the phase's text
    new_steps = r"New on your plan then:</p>\s*<ul[^>]*><li>Lunges, squats, clamshells and bridges</li></ul>"
    assert re.search(new_steps, road)
    assert "Unlocks once your clinician clears you to run." in road
    # Day 5 of the early phase: what starts later in it is said too, with its day (nowhere else until then).
    coming = r"Still to start in this phase:</p>\s*<ul[^>]*><li>Clamshells and hip bridges, from day 7</li>"
    assert re.search(coming, road)


def test_the_road_opens_the_return_to_running_once_the_clinician_signs_off(patient_client, patient, clinician):
    plan = make_plan(patient, days_since_race=22)
    CheckInFactory(plan=plan, pain=1)
    before = patient_client.get(PROGRESS_URL).content.decode()
    assert road_stages(before)[-2:] == ["current", "ahead"]
    assert "Unlocks once your clinician clears you to run." in before
    plan_clear_to_run(plan=plan, by=clinician, today=clinic_today())
    after = patient_client.get(PROGRESS_URL).content.decode()
    assert road_stages(after) == ["past", "past", "past", "current"]
    assert "Unlocks once" not in after


def test_a_clinicians_new_phase_text_reaches_the_patients_road(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    patient_client.get(PROGRESS_URL)  # the phases are now in the content cache (with Redis)
    phase = plan.protocol.phases.get(name="Strengthen")
    phase.description = "Squats and lunges, twice a week, with your physio."
    phase.save()
    assert "Squats and lunges, twice a week, with your physio." in patient_client.get(PROGRESS_URL).content.decode()


@pytest.mark.parametrize(("history_days", "extra_steps"), [(1, 0), (365, 15)])
def test_progress_uses_a_fixed_number_of_queries(
    database_only, client, django_assert_num_queries, history_days, extra_steps
):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=365)
    _extra_steps(plan, extra_steps)
    _history(plan, history_days)
    assert PlanStep.objects.filter(plan=plan).count() in (15, 30)
    client.force_login(patient)
    # Expect 7 queries: session, user, the open plan (joined to the Patient group), the facts since race day
    # (steps, phases, then ticks, days off and pain scores in one query), and the safety thresholds for the
    # chart's bands.
    with django_assert_num_queries(7):
        response = client.get(PROGRESS_URL)
    assert response.status_code == 200


def test_a_patients_first_day_shows_no_percentage_until_a_whole_day_is_over(patient_client, patient):
    """Enrolled today, one check-in done of the day's tasks: not "100% done" on the progress page."""
    from recovery.checkins import check_in_save

    plan = make_plan(patient, days_since_race=10)  # enrolled today: the days before it are not counted
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 2}, today=clinic_today())
    page = patient_client.get(reverse("recovery:progress"))
    assert stat(page, "week") == "–" and stat(page, "overall") == "–"
    assert "No score yet: it starts once your first whole day is over." in page.text

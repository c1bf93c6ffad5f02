"""The clinician's workspace in the admin: the patients list, a patient's page, tailoring, sign-off, alerts."""

import csv
import datetime
import io
import re
from html import unescape
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from recovery import care, rules, safety
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import Alert, Completion, Gate, PlanStep, Protocol, RecoveryPlan
from recovery.services import day_excuse
from tests.factories import CheckInFactory, ClinicianFactory, PatientFactory, ReceptionFactory, make_plan
from tests.test_today import task_attrs

pytestmark = pytest.mark.django_db

PLANS_URL = "/admin/recovery/recoveryplan/"
ALERTS_URL = "/admin/recovery/alert/"


def alert_for(plan, kind=Alert.Kind.HIGH_PAIN, severity=Alert.Severity.HIGH, days_ago=0):
    return Alert.objects.create(
        plan=plan, kind=kind, severity=severity, date=clinic_today() - datetime.timedelta(days=days_ago),
        reason="Pain 7/10 in today's check-in.",
    )  # fmt: skip


def finish_yesterday(plan):
    yesterday = clinic_today() - datetime.timedelta(days=1)
    facts = facts_for_plan(plan, yesterday - datetime.timedelta(days=6), yesterday)
    Completion.objects.bulk_create(
        Completion(plan=plan, step_key=task.key, date=yesterday, count=task.target)
        for task in rules.tasks_on(facts, yesterday, clinic_today())
        if task.lock is None
    )


def row_of(html, email):
    start = html.index(email)
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def test_the_list_shows_each_patients_day_adherence_pain_and_alerts(clinician_client):
    diligent = make_plan(PatientFactory(email="diligent@example.com"), days_since_race=1, enrolled_days_ago=1)
    finish_yesterday(diligent)
    idle = make_plan(PatientFactory(email="idle@example.com"), days_since_race=1, enrolled_days_ago=1)
    CheckInFactory(plan=idle, pain=7)
    alert_for(idle)
    html = clinician_client.get(PLANS_URL).content.decode()
    diligent_row, idle_row = row_of(html, "diligent@example.com"), row_of(html, "idle@example.com")
    assert "Day 1 · Protect" in diligent_row and "100%" in diligent_row
    assert "0%" in idle_row and "7/10" in idle_row and "⚠ 1 open" in idle_row
    assert f'href="/admin/recovery/alert/?plan__id__exact={idle.pk}&amp;state=open"' in idle_row  # its alerts
    # Open alerts come first, as the page's title says.
    assert "<h1>Patients: open alerts first, then the longest silent</h1>" in html
    assert html.index("idle@example.com") < html.index("diligent@example.com")


def test_an_urgent_red_flag_comes_before_more_alerts_of_less_weight_and_says_so(clinician_client):
    watched = make_plan(PatientFactory(email="watched@example.com"), days_since_race=3)
    for days_ago in (0, 1, 2):
        alert_for(watched, Alert.Kind.RISING_PAIN, Alert.Severity.WATCH, days_ago=days_ago)
    urgent = make_plan(PatientFactory(email="urgent@example.com"), days_since_race=3)
    alert_for(urgent, Alert.Kind.RED_FLAG, Alert.Severity.URGENT)
    html = clinician_client.get(PLANS_URL).content.decode()
    assert html.index("urgent@example.com") < html.index("watched@example.com")  # not by how many
    assert "⚠ 1 open · urgent" in row_of(html, "urgent@example.com")
    assert "⚠ 3 open · watch" in row_of(html, "watched@example.com")


def test_todays_red_flag_comes_before_last_weeks_with_more_alerts_beside_it(clinician_client):
    last_week = make_plan(PatientFactory(email="lastweek@example.com"), days_since_race=12)
    alert_for(last_week, Alert.Kind.RED_FLAG, Alert.Severity.URGENT, days_ago=6)
    alert_for(last_week, Alert.Kind.HIGH_PAIN, Alert.Severity.HIGH, days_ago=0)  # newer, but less severe
    alert_for(last_week, Alert.Kind.RISING_PAIN, Alert.Severity.WATCH, days_ago=1)
    today = make_plan(PatientFactory(email="today@example.com"), days_since_race=12)
    alert_for(today, Alert.Kind.RED_FLAG, Alert.Severity.URGENT)
    same_day_fewer = make_plan(PatientFactory(email="fewer@example.com"), days_since_race=12)
    alert_for(same_day_fewer, Alert.Kind.RED_FLAG, Alert.Severity.URGENT, days_ago=6)
    html = clinician_client.get(PLANS_URL).content.decode()
    assert html.index("today@example.com") < html.index("lastweek@example.com") < html.index("fewer@example.com")
    assert "⚠ 3 open · urgent" in row_of(html, "lastweek@example.com")
    assert "⚠ 1 open · urgent" in row_of(html, "today@example.com")


def test_sorting_by_the_alerts_column_lists_each_patient_once(clinician_client):
    plans = [make_plan(PatientFactory(email=f"p{number}@example.com"), days_since_race=3) for number in range(3)]
    for days_ago in (0, 1, 2):
        alert_for(plans[0], Alert.Kind.RISING_PAIN, Alert.Severity.WATCH, days_ago=days_ago)
    alert_for(plans[1], Alert.Kind.RED_FLAG, Alert.Severity.URGENT)
    page = clinician_client.get(PLANS_URL)
    sort_link = re.search(r'class="sortable column-open_alerts">.*?<a role="button" href="([^"]+)"', page.text, re.S)
    for order in (sort_link[1].replace("&amp;", "&"), "?o=-5"):
        html = clinician_client.get(PLANS_URL + order).content.decode()
        assert [html.count(f"p{number}@example.com") for number in range(3)] == [1, 1, 1], order  # not a row per alert


def test_a_patient_enrolled_today_is_not_shown_as_missing_the_days_before(clinician_client):
    make_plan(PatientFactory(email="new@example.com"), days_since_race=6)
    row = row_of(clinician_client.get(PLANS_URL).content.decode(), "new@example.com")
    assert '<td class="field-adherence">–</td>' in row  # no score yet, not 0%


def test_the_list_marks_inactive_patients(clinician_client):
    quiet = make_plan(PatientFactory(email="quiet@example.com"), days_since_race=10)
    RecoveryPlan.objects.filter(pk=quiet.pk).update(last_activity_on=clinic_today() - datetime.timedelta(days=5))
    busy = make_plan(PatientFactory(email="busy@example.com"), days_since_race=10)
    RecoveryPlan.objects.filter(pk=busy.pk).update(last_activity_on=clinic_today())
    html = clinician_client.get(PLANS_URL).content.decode()
    assert "inactive" in row_of(html, "quiet@example.com")
    assert "inactive" not in row_of(html, "busy@example.com")
    filtered = clinician_client.get(PLANS_URL + "?activity=inactive").content.decode()
    assert "quiet@example.com" in filtered and "busy@example.com" not in filtered


def test_filters_for_my_patients_open_alerts_and_phase(clinician_client, clinician):
    mine = make_plan(PatientFactory(email="mine@example.com"), days_since_race=2, clinician=clinician)
    other = make_plan(PatientFactory(email="other@example.com"), days_since_race=16)
    alert_for(other)
    mine_only = clinician_client.get(PLANS_URL + "?mine=yes").content.decode()
    assert "mine@example.com" in mine_only and "other@example.com" not in mine_only
    alerts_only = clinician_client.get(PLANS_URL + "?alerts=open").content.decode()
    assert "other@example.com" in alerts_only and "mine@example.com" not in alerts_only
    protect = clinician_client.get(PLANS_URL + "?phase=Protect").content.decode()
    assert "mine@example.com" in protect and "other@example.com" not in protect
    strengthen = clinician_client.get(PLANS_URL + "?phase=Strengthen").content.decode()
    assert "other@example.com" in strengthen and "mine@example.com" not in strengthen
    assert mine.pk != other.pk


def test_the_phase_filter_lists_each_patient_under_the_phase_their_row_shows_when_a_phase_waits_for_low_pain(
    clinician_client,
):
    # A clinician makes "Strengthen" wait for pain of 3 or less (the Phase admin allows a pain gate on a phase).
    Protocol.objects.default().phases.filter(name="Strengthen").update(gate=Gate.PAIN, gate_pain_max=3)
    sore = make_plan(PatientFactory(email="sore@example.com"), days_since_race=16)
    CheckInFactory(plan=sore, pain=5)  # above the limit: still in Early recovery
    eased = make_plan(PatientFactory(email="eased@example.com"), days_since_race=16)
    CheckInFactory(plan=eased, date=clinic_today() - datetime.timedelta(days=1), pain=7)
    CheckInFactory(plan=eased, pain=3)  # the latest score counts, and the limit itself opens it
    flagged = make_plan(PatientFactory(email="flagged@example.com"), days_since_race=16)
    CheckInFactory(plan=flagged, pain=1, night_pain=True)  # a red flag closes a pain gate whatever the score
    make_plan(PatientFactory(email="silent@example.com"), days_since_race=16)  # no score yet
    cleared = make_plan(PatientFactory(email="cleared@example.com"), days_since_race=22)
    CheckInFactory(plan=cleared, pain=5)  # Strengthen closed, but the sign-off opens Return to running
    RecoveryPlan.objects.filter(pk=cleared.pk).update(cleared_to_run_on=clinic_today())
    expected = {
        "sore@example.com": "Day 16 · Early recovery",
        "eased@example.com": "Day 16 · Strengthen",
        "flagged@example.com": "Day 16 · Early recovery",
        "silent@example.com": "Day 16 · Early recovery",
        "cleared@example.com": "Day 22 · Return to running",
    }
    listing = clinician_client.get(PLANS_URL).content.decode()
    for email, day_and_phase in expected.items():
        assert day_and_phase in row_of(listing, email)
    for phase in ("Early recovery", "Strengthen", "Return to running"):
        filtered = clinician_client.get(PLANS_URL, {"phase": phase}).content.decode()
        listed = {email for email in expected if email in filtered}
        assert listed == {email for email, shown in expected.items() if shown.endswith(phase)}, phase


def test_search_by_name_or_email(clinician_client):
    make_plan(PatientFactory(email="zoe@example.com", first_name="Zoë", last_name="Quick"))
    make_plan(PatientFactory(email="yan@example.com", last_name="Slow"))
    html = clinician_client.get(PLANS_URL + "?q=Quick").content.decode()
    assert "zoe@example.com" in html and "yan@example.com" not in html


def _plans(count):
    for number in range(count):
        plan = make_plan(PatientFactory(), days_since_race=1 + number % 20)
        CheckInFactory(plan=plan, pain=number % 8)
        if number % 3 == 0:
            alert_for(plan)


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_uses_the_same_number_of_queries_for_few_and_many_patients(
    database_only, clinician_client, django_assert_num_queries, count
):
    _plans(count)
    # Expect 16 queries: session, user, the clinician's permissions (user's and groups'), the phase filter's
    # choices, the row count (filtered and total), the page's plans with their alert counts and latest pain, the
    # page's patients and clinicians (one query), the rows' summaries (thresholds, then facts: steps, phases, and
    # ticks, days off and pain scores in one query), the sidebar asking whether the disclaimer and thresholds
    # records exist, and the audit log's one INSERT.
    with django_assert_num_queries(16):
        response = clinician_client.get(PLANS_URL)
    assert response.status_code == 200


def test_the_list_stays_within_its_query_budget_with_a_full_page_of_300_patients(
    database_only, clinician_client, django_assert_num_queries
):
    _plans(300)
    with django_assert_num_queries(16):  # as above, the audit log's INSERT included
        response = clinician_client.get(PLANS_URL)
    assert response.content.decode().count('class="action-select"') == 50  # one page


def test_tailoring_a_step_changes_todays_plan_from_the_chosen_date_only(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)
    neighbour = make_plan(PatientFactory(), days_since_race=1)
    finish_yesterday(plan)
    yesterday = clinic_today() - datetime.timedelta(days=1)
    before = rules.adherence(facts_for_plan(plan, plan.race_date, clinic_today()), yesterday, yesterday, clinic_today())

    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "ice", "from_date": clinic_today().isoformat(), "action": "change", "doses_per_day": 2},
    )
    assert response.status_code == 302

    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "ice")["data-target"] == "2"
    assert task_attrs(client.get("/today/?back=1"), "ice")["data-target"] == "3"  # yesterday keeps its rules
    after = rules.adherence(facts_for_plan(plan, plan.race_date, clinic_today()), yesterday, yesterday, clinic_today())
    assert after == before == 1.0
    assert neighbour.steps.get(key="ice").doses_per_day == 3  # no one else's plan changes


def test_a_pain_limit_tailored_for_one_patient_keeps_their_stretches_closed_until_the_pain_is_that_low(
    clinician_client, client
):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=5)
    neighbour = make_plan(PatientFactory(), days_since_race=5)
    CheckInFactory(plan=plan, pain=2)
    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "stretch")["data-locked"] == "false"  # the protocol's limit is 3

    page = clinician_client.get(reverse("admin:recovery_plan_change_step", args=[plan.pk])).text
    assert "(stretch): from day 4, 1 a day, opens at pain 3/10 or less" in unescape(page)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "stretch", "from_date": clinic_today().isoformat(), "action": "change", "gate_pain_max": 1},
        follow=True,
    )
    assert "pain limit 1/10" in unescape(response.text)

    today = client.get("/today/")
    assert task_attrs(today, "stretch")["data-locked"] == "true"
    assert "Unlocks once your pain is 1/10 or less." in today.text
    assert neighbour.steps.get(key="stretch").gate_pain_max == 3  # no one else's plan changes


@pytest.mark.parametrize(
    ("key", "refusal"),
    [
        ("hydrate", "is always open, whatever the pain score: it has no pain limit."),
        ("runner-strength", "opens with the return-to-running sign-off, not a pain score: it has no pain limit."),
    ],
)
def test_a_step_that_does_not_wait_for_the_pain_score_takes_no_pain_limit(clinician_client, key, refusal):
    plan = make_plan(days_since_race=5)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": key, "from_date": clinic_today().isoformat(), "action": "change", "gate_pain_max": 2},
    )
    assert refusal in unescape(response.text)
    assert plan.steps.get(key=key).gate_pain_max is None


def test_a_new_pain_limit_needs_new_words_where_the_step_quotes_the_old_one(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=8)  # clamshells and bridges: "Stop if your pain goes above 3 out of 10."
    url = reverse("admin:recovery_plan_change_step", args=[plan.pk])
    change = {"key": "strength-early", "from_date": clinic_today().isoformat(), "action": "change", "gate_pain_max": 1}
    refused = clinician_client.post(url, change)
    assert "tells the patient “3 out of 10”: give it new words for the new limit too" in unescape(refused.text)
    assert plan.steps.get(key="strength-early").gate_pain_max == 3

    words = "Do 2 sets of 10 clamshells and 2 sets of 10 hip bridges. Stop if your pain goes above 1 out of 10."
    assert clinician_client.post(url, change | {"instruction": words}).status_code == 302
    client.force_login(patient)
    assert "Stop if your pain goes above 3 out of 10" not in client.get("/today/").text


def test_a_new_pain_limit_starts_tomorrow_for_a_step_the_patient_did_today(clinician_client):
    plan = make_plan(days_since_race=8)
    Completion.objects.create(plan=plan, step_key="stretch", date=clinic_today(), count=1)
    url = reverse("admin:recovery_plan_change_step", args=[plan.pk])
    change = {"key": "stretch", "action": "change", "gate_pain_max": 1}
    refused = clinician_client.post(url, change | {"from_date": clinic_today().isoformat()})
    assert "The patient has done “Gentle hip stretches” today: start the new limit tomorrow" in unescape(refused.text)
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    assert clinician_client.post(url, change | {"from_date": tomorrow.isoformat()}).status_code == 302


def test_a_pain_limit_off_the_scale_is_refused_in_plain_words(clinician_client):
    plan = make_plan(days_since_race=5)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "stretch", "from_date": clinic_today().isoformat(), "action": "change", "gate_pain_max": 11},
    )
    assert "Give a pain score from 0 to 10." in response.text
    assert plan.steps.get(key="stretch").gate_pain_max == 3


def test_the_plans_history_says_who_tailored_paused_and_signed_off_and_when(clinician_client, clinician):
    """The plan's own pages (tailor, sign-off, status) are not the admin's change form: History lists them too."""
    plan = make_plan(days_since_race=25)
    clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "ice", "from_date": clinic_today().isoformat(), "action": "stop"},
        follow=True,
    )
    clinician_client.post(reverse("admin:recovery_plan_sign_off", args=[plan.pk]))
    clinician_client.post(reverse("admin:recovery_plan_status", args=[plan.pk]), {"status": "paused"})
    history = clinician_client.get(reverse("admin:recovery_recoveryplan_history", args=[plan.pk])).text
    label = plan.steps.get(key="ice").label
    assert f"The step “{label}” stops from" in unescape(history)  # its name, not its key
    clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {
            "key": "rest",
            "from_date": clinic_today().isoformat(),
            "action": "change",
            "doses_per_day": 2,
            "last_day": 40,
        },  # fmt: skip
    )
    history = unescape(clinician_client.get(reverse("admin:recovery_recoveryplan_history", args=[plan.pk])).text)
    assert f"changes from {clinic_today():%d %b %Y} (2 a day, last day 40)." in history  # what, not only when
    assert "cleared to run from today" in history and "The plan is now paused." in history
    assert history.count(clinician.get_full_name() or clinician.email) >= 3


def test_the_plans_page_refuses_a_race_date_to_come_but_keeps_an_old_plans_own(clinician_client):
    plan = make_plan(days_since_race=400)  # a plan that has run for over a year
    url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    form = clinician_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if name in form.fields and value is not None}
    data.update({"race_date": plan.race_date.isoformat(), "note_to_patient": "Keep going", "clinician": ""})
    data |= {f"steps-{key}": value for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()}
    response = clinician_client.post(url, data)
    plan.refresh_from_db()
    assert plan.note_to_patient == "Keep going", getattr(response, "context", None) and response.context["errors"]
    future = (clinic_today() + datetime.timedelta(days=30)).isoformat()
    response = clinician_client.post(url, data | {"race_date": future})
    assert "The race date is in the future." in response.text  # not "Day -30" in the list
    plan.refresh_from_db()
    assert plan.race_date < clinic_today()


def test_a_race_date_moved_past_the_sign_off_withdraws_it_and_says_so(clinician_client):
    plan = make_plan(days_since_race=30)
    plan.cleared_to_run_on = clinic_today() - datetime.timedelta(days=5)
    plan.save()
    url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    form = clinician_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if name in form.fields and value is not None}
    data |= {f"steps-{key}": value for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()}
    data |= {"race_date": (clinic_today() - datetime.timedelta(days=2)).isoformat(), "clinician": ""}
    response = clinician_client.post(url, data, follow=True)
    assert "came before the new race date, so it was withdrawn" in response.text
    plan.refresh_from_db()
    assert plan.cleared_to_run_on is None and plan.cleared_by is None  # running waits for a new sign-off


def test_stopping_a_step_from_tomorrow_keeps_it_today(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "compression", "from_date": tomorrow.isoformat(), "action": "stop"},
    )
    client.force_login(patient)
    assert 'data-task="compression"' in client.get("/today/").content.decode()
    facts = facts_for_plan(plan, tomorrow, tomorrow)
    assert "compression" not in [step.key for step in rules.steps_on(facts, tomorrow)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"doses_per_day": 0}, "Ensure this value is greater than or equal to 1."),
        ({"first_day": 5, "last_day": 2}, "The step would end (day 2) before it starts (day 5). Change both days."),
        ({"first_day": 5}, "The step would end (day 2) before it starts (day 5)."),  # ice's own last day is 2
        ({"first_day": 99999999999999999999}, "Day numbers go up to 730 (two years after the race)."),
        ({}, "Say what changes"),
    ],
)
def test_bad_tailoring_is_a_form_error_and_saves_nothing(clinician_client, data, message):
    plan = make_plan(days_since_race=1)
    before = list(PlanStep.objects.filter(plan=plan).values())
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "ice", "from_date": clinic_today().isoformat(), "action": "change", **data},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    if data:  # a change was typed: the form says what is wrong with it, not that nothing changes
        assert "Say what changes" not in response.content.decode()
    assert list(PlanStep.objects.filter(plan=plan).values()) == before


def test_the_step_choice_shows_each_steps_days_and_doses_as_they_stand(clinician_client):
    plan = make_plan(days_since_race=1)
    form = clinician_client.get(reverse("admin:recovery_plan_change_step", args=[plan.pk])).text
    ice = plan.steps.get(key="ice")
    assert f"{ice.label} (ice): days 0–2, 3 a day" in unescape(form)
    assert "(cross-train): from day 7, 3 a week" in unescape(form)


def test_a_change_cannot_start_more_than_a_year_ahead(clinician_client):
    plan = make_plan(days_since_race=3)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "rest", "from_date": "9999-12-31", "action": "stop"},
    )
    assert "Choose a date within the next year." in response.text
    assert PlanStep.objects.get(plan=plan, key="rest").valid_until is None


def test_the_lists_heading_names_its_order_only_while_it_is_in_it(clinician_client):
    make_plan()
    assert "<h1>Patients: open alerts first, then the longest silent</h1>" in clinician_client.get(PLANS_URL).text
    assert "<h1>Patients</h1>" in clinician_client.get(PLANS_URL + "?o=3").text


def test_a_change_cannot_start_in_the_past(clinician_client):
    plan = make_plan(days_since_race=3)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "rest", "from_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(), "action": "stop"},
    )
    assert "Changes start today or later" in response.content.decode()
    assert PlanStep.objects.get(plan=plan, key="rest").valid_until is None


def add_a_walk(clinician_client, plan, **fields):
    """The add-step form sent for a gentle walk from today, with ``fields`` changed."""
    from recovery.models import Tip

    data = {
        "tip": Tip.objects.get(slug="cross-training").pk, "key": "walk", "label": "Gentle walk",
        "instruction": "Walk for 10 minutes on the flat.", "first_day": 0, "doses_per_day": 1, "gate": "none",
        "from_date": clinic_today().isoformat(), **fields,
    }  # fmt: skip
    return clinician_client.post(reverse("admin:recovery_plan_add_step", args=[plan.pk]), data)


def test_a_step_from_the_tip_library_can_be_added_to_one_plan(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)
    response = add_a_walk(clinician_client, plan)
    assert response.status_code == 302
    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "walk")["data-target"] == "1"
    assert 'data-task="walk"' not in client.get("/today/?back=1").content.decode()
    # The patient's page and the visit summary still open: the new step has no last week of its own ("–").
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk]))
    assert page.status_code == 200 and "Gentle walk" in page.text
    assert clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).status_code == 200


def test_a_step_added_far_beyond_two_years_is_refused_in_plain_words(clinician_client, client):
    from recovery.models import PlanStep

    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)
    response = add_a_walk(clinician_client, plan, first_day=3000000)
    assert response.status_code == 200 and "Day numbers go up to 730 (two years after the race)." in response.text
    assert not PlanStep.objects.filter(plan=plan, key="walk").exists()
    client.force_login(patient)
    assert client.get("/progress/").status_code == 200  # a date past the calendar's end broke the patient's page


def test_a_step_added_without_a_key_gets_one_from_its_label(clinician_client, client):
    from recovery.models import Tip

    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)
    url = reverse("admin:recovery_plan_add_step", args=[plan.pk])
    form = clinician_client.get(url).text
    assert "Strength Training (recovery)" in form and "Strength Training (injury prevention)" in form  # told apart
    data = {
        "tip": Tip.objects.get(slug="cross-training").pk, "label": "Gentle walk, on the flat",
        "instruction": "Walk for 10 minutes.", "first_day": 0, "doses_per_day": 1, "gate": "none",
        "from_date": clinic_today().isoformat(),
    }  # fmt: skip
    assert clinician_client.post(url, data).status_code == 302
    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "gentle-walk-on-the-flat")["data-target"] == "1"
    missing_tip = clinician_client.post(url, {**data, "tip": "", "label": "Another"})
    assert "Choose the tip that explains this step to the patient." in missing_tip.text


def test_ending_a_step_from_today_also_ends_the_version_set_to_start_tomorrow(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=4)
    url = reverse("admin:recovery_plan_change_step", args=[plan.pk])
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    change = {"key": "stretch", "action": "change"}
    clinician_client.post(url, change | {"from_date": tomorrow.isoformat(), "doses_per_day": 3})
    # The choice shows the step as it stands today, not tomorrow's version.
    assert "(stretch): from day 4, 1 a day" in unescape(clinician_client.get(url).text)
    response = clinician_client.post(url, change | {"from_date": clinic_today().isoformat(), "last_day": 6})
    assert response.status_code == 302
    day_7 = plan.race_date + datetime.timedelta(days=7)
    facts = facts_for_plan(plan, tomorrow, day_7)
    assert [step.doses_per_day for step in rules.steps_on(facts, tomorrow) if step.key == "stretch"] == [3]
    assert "stretch" not in [step.key for step in rules.steps_on(facts, day_7)]  # ended on day 6, both versions


def test_a_change_whose_last_day_has_passed_is_refused_and_the_step_stays(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=5)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "rest", "from_date": clinic_today().isoformat(), "action": "change", "last_day": 2},
    )
    assert "Its last day (day 2) is before" in response.text and "stop it from this date" in response.text
    client.force_login(patient)
    assert 'data-task="rest"' in client.get("/today/").text


def test_a_step_whose_last_day_has_passed_is_refused_with_the_reason(clinician_client):
    from recovery.models import Tip

    plan = make_plan(days_since_race=5)
    response = clinician_client.post(
        reverse("admin:recovery_plan_add_step", args=[plan.pk]),
        {
            "tip": Tip.objects.get(slug="cross-training").pk, "key": "walk", "label": "Gentle walk",
            "instruction": "Walk for 10 minutes.", "first_day": 0, "last_day": 3, "doses_per_day": 1, "gate": "none",
            "from_date": clinic_today().isoformat(),
        },
    )  # fmt: skip
    assert "Its last day (day 3) is before" in response.text and "day 5 of the plan" in response.text
    assert not plan.steps.filter(key="walk").exists()


def test_a_discharged_plans_steps_are_its_record_and_cannot_be_tailored(clinician_client):
    plan = make_plan(days_since_race=5)
    care.plan_set_status(plan=plan, status=RecoveryPlan.Status.COMPLETED, today=clinic_today())
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    assert reverse("admin:recovery_plan_change_step", args=[plan.pk]) not in page
    assert reverse("admin:recovery_plan_add_step", args=[plan.pk]) not in page
    assert reverse("admin:recovery_plan_reenrol", args=[plan.pk]) in page
    for page in ("change_step", "add_step"):  # said before a form is filled in, and a sent one changes nothing
        url = reverse(f"admin:recovery_plan_{page}", args=[plan.pk])
        assert "its steps stay as they were" in clinician_client.get(url, follow=True).text
        response = clinician_client.post(
            url, {"key": "rest", "from_date": clinic_today().isoformat(), "action": "stop"}, follow=True
        )
        assert "This plan is complete (discharged), so its steps stay as they were." in response.text
    assert PlanStep.objects.get(plan=plan, key="rest").valid_until is None


def test_a_step_whose_days_are_over_says_so_and_only_a_later_last_day_changes_it(clinician_client, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=15)
    url = reverse("admin:recovery_plan_change_step", args=[plan.pk])
    assert "(ice): days 0–2, 3 a day, over" in unescape(clinician_client.get(url).text)
    today = clinic_today().isoformat()
    refused = clinician_client.post(url, {"key": "ice", "from_date": today, "action": "change", "doses_per_day": 2})
    assert "Its last day (day 2) is before" in refused.text and "Give it a later last day" in refused.text
    clinician_client.post(url, {"key": "ice", "from_date": today, "action": "change", "last_day": 17})
    client.force_login(patient)
    assert 'data-task="ice"' in client.get("/today/").text  # brought back for three more days


def test_stopping_a_step_with_changes_typed_says_they_would_not_be_kept(clinician_client):
    plan = make_plan(days_since_race=5)
    response = clinician_client.post(
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        {"key": "rest", "from_date": clinic_today().isoformat(), "action": "stop", "doses_per_day": 2},
    )
    assert "what you typed below would not be kept" in unescape(response.text)
    assert PlanStep.objects.get(plan=plan, key="rest").valid_until is None


def test_sign_off_records_who_and_when_and_opens_the_running_steps(clinician_client, clinician, client):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=22)
    client.force_login(patient)
    assert task_attrs(client.get("/today/"), "warm-up")["data-locked"] == "true"
    response = clinician_client.post(reverse("admin:recovery_plan_sign_off", args=[plan.pk]), follow=True)
    assert "is cleared to run from today; the running steps are open." in response.text
    plan.refresh_from_db()
    assert plan.cleared_by == clinician and plan.cleared_to_run_on == clinic_today()
    assert task_attrs(client.get("/today/"), "warm-up")["data-locked"] == "false"
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).content.decode()
    assert "Cleared to run on" in page and str(clinician) in page


def test_a_sign_off_with_an_alert_unread_asks_once_more_and_points_to_it(clinician_client):
    plan = make_plan(days_since_race=22)
    red_flag = alert_for(plan, Alert.Kind.RED_FLAG, Alert.Severity.URGENT)
    url = reverse("admin:recovery_plan_sign_off", args=[plan.pk])
    asked = clinician_client.post(url)
    assert asked.status_code == 200 and "to run?" in asked.text and 'value="Clear to run"' in asked.text
    assert "1 open alert (1 urgent) not yet acknowledged" in asked.text
    assert reverse("admin:recovery_alert_change", args=[red_flag.pk]) in asked.text
    assert "may mean the hip is not ready to run" in asked.text
    plan.refresh_from_db()
    assert plan.cleared_to_run_on is None  # nothing done yet
    clinician_client.post(url, {"confirmed": "1"})
    plan.refresh_from_db()
    assert plan.cleared_to_run_on == clinic_today()


def test_a_sign_off_before_day_21_is_asked_once_more_and_says_when_the_running_steps_open(clinician_client):
    """One click on day 5 opened running on day 21 unseen, and took the patient off "Due for sign-off" (audit)."""
    plan = make_plan(days_since_race=5)
    url = reverse("admin:recovery_plan_sign_off", args=[plan.pk])
    opening = plan.race_date + datetime.timedelta(days=21)
    asked = clinician_client.post(url, follow=True)
    assert f"It is day 5: the running steps would open on day 21 ({opening:%-d %b}) without another look" in asked.text
    plan.refresh_from_db()
    assert plan.cleared_to_run_on is None
    response = clinician_client.post(url, {"confirmed": "1"}, follow=True)
    assert f"the running steps open on day 21, {opening:%d %b}." in response.text


def test_a_sign_off_from_day_21_needs_one_click(clinician_client):
    plan = make_plan(days_since_race=22)
    clinician_client.post(reverse("admin:recovery_plan_sign_off", args=[plan.pk]))
    plan.refresh_from_db()
    assert plan.cleared_to_run_on == clinic_today()


def test_re_enrol_says_first_that_the_current_plan_will_be_discharged(clinician_client):
    plan = make_plan(days_since_race=5)
    page = clinician_client.get(reverse("admin:recovery_plan_reenrol", args=[plan.pk])).text
    assert f"current plan (race day {plan.race_date:%d %b %Y}, active) will be complete (discharged)" in page


def test_discharge_and_re_enrol_name_the_alerts_not_yet_read(clinician_client):
    plan = make_plan(days_since_race=5)
    Alert.objects.create(plan=plan, kind="red_flag", severity=3, date=clinic_today(), reason="Fell on the hip.")
    Alert.objects.create(plan=plan, kind="high_pain", severity=2, date=clinic_today(), reason="Pain 7/10.")
    asked = clinician_client.post(reverse("admin:recovery_plan_status", args=[plan.pk]), {"status": "completed"})
    red_flag = reverse("admin:recovery_alert_change", args=[Alert.objects.get(kind="red_flag").pk])
    warning = (
        "This plan has 2 open alerts (1 urgent) not yet acknowledged, the most pressing: "
        f'<a href="{red_flag}">Red flag on {clinic_today():%d %b}</a>.'
    )
    assert warning in unescape(asked.text)
    assert warning in unescape(clinician_client.get(reverse("admin:recovery_plan_reenrol", args=[plan.pk])).text)
    Alert.objects.update(acknowledged_at=timezone.now())
    asked = clinician_client.post(reverse("admin:recovery_plan_status", args=[plan.pk]), {"status": "completed"})
    assert "open alert" not in asked.text


def test_pause_resume_and_discharge(clinician_client):
    plan = make_plan()
    url = reverse("admin:recovery_plan_status", args=[plan.pk])
    clinician_client.post(url, {"status": "paused"})
    plan.refresh_from_db()
    assert plan.status == "paused"
    clinician_client.post(url, {"status": "active"})
    # A discharge cannot be undone: the button asks once more, on a page of its own.
    asked = clinician_client.post(url, {"status": "completed"})
    assert asked.status_code == 200 and "cannot be reopened" in asked.text and 'value="Discharge"' in asked.text
    plan.refresh_from_db()
    assert plan.status == "active"
    clinician_client.post(url, {"status": "completed", "confirmed": "1"})
    plan.refresh_from_db()
    assert plan.status == "completed"
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    assert "Discharged: this plan is complete." in page and "Clear to run from today" not in page
    response = clinician_client.post(url, {"status": "active"}, follow=True)
    assert "cannot be made active" in response.content.decode()


def test_re_enrol_discharges_the_old_plan_and_starts_a_new_one(clinician_client):
    plan = make_plan(days_since_race=40)
    race = clinic_today() - datetime.timedelta(days=1)
    response = clinician_client.post(
        reverse("admin:recovery_plan_reenrol", args=[plan.pk]),
        {"race_date": race.isoformat(), "protocol": plan.protocol_id},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "completed"
    new = RecoveryPlan.objects.open().get(patient=plan.patient)
    assert new.race_date == race and new.steps.count() == plan.steps.count()


def test_re_enrolling_twice_or_from_an_old_plan_is_refused_in_plain_words_not_an_error(clinician_client):
    """A second click on "Start the new plan", or Re-enrol on the completed plan: the patient already has one."""
    plan = make_plan(days_since_race=40)
    data = {"race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(), "protocol": plan.protocol_id}
    url = reverse("admin:recovery_plan_reenrol", args=[plan.pk])
    clinician_client.post(url, data)
    again = clinician_client.post(url, data, follow=True)
    assert again.status_code == 200
    assert "already has an open plan. Re-enrol from that plan if they need a new one." in again.text
    assert RecoveryPlan.objects.filter(patient=plan.patient).count() == 2
    assert RecoveryPlan.objects.open().filter(patient=plan.patient).count() == 1


def test_re_enrol_refuses_a_future_race_date(clinician_client):
    plan = make_plan()
    response = clinician_client.post(
        reverse("admin:recovery_plan_reenrol", args=[plan.pk]),
        {"race_date": (clinic_today() + datetime.timedelta(days=3)).isoformat(), "protocol": plan.protocol_id},
    )
    assert "The race date is in the future." in response.content.decode()
    assert RecoveryPlan.objects.count() == 1


def test_the_alerts_queue_lists_open_alerts_first_most_severe_and_newest_first(clinician_client, clinician):
    plan = make_plan()
    old_watch = alert_for(plan, Alert.Kind.RISING_PAIN, Alert.Severity.WATCH, days_ago=2)
    urgent = alert_for(plan, Alert.Kind.RED_FLAG, Alert.Severity.URGENT, days_ago=1)
    done = alert_for(plan, Alert.Kind.HIGH_PAIN, Alert.Severity.URGENT, days_ago=0)
    Alert.objects.filter(pk=done.pk).update(acknowledged_at=timezone.now(), acknowledged_by=clinician)
    html = clinician_client.get(ALERTS_URL).content.decode()
    order = [html.index(f"/admin/recovery/alert/{alert.pk}/change/") for alert in (urgent, old_watch, done)]
    assert order == sorted(order)
    assert "<h1>Alerts: open first, the most severe and newest first</h1>" in html


def alerts_of_every_kind(plan, clinician):
    """Open and acknowledged, older and newer, urgent and watch: each list must put them in the queue's order."""
    old_open_urgent = alert_for(plan, Alert.Kind.RED_FLAG, Alert.Severity.URGENT, days_ago=20)
    new_open_watch = alert_for(plan, Alert.Kind.RISING_PAIN, Alert.Severity.WATCH, days_ago=1)
    new_done = alert_for(plan, Alert.Kind.HIGH_PAIN, Alert.Severity.URGENT, days_ago=0)
    old_done = alert_for(plan, Alert.Kind.NUMBNESS, Alert.Severity.HIGH, days_ago=5)
    now = timezone.now()
    Alert.objects.filter(pk=old_done.pk).update(
        acknowledged_at=now - datetime.timedelta(days=4), acknowledged_by=clinician
    )
    Alert.objects.filter(pk=new_done.pk).update(acknowledged_at=now, acknowledged_by=clinician)
    for days_ago, alert in [(20, old_open_urgent), (1, new_open_watch), (0, new_done), (5, old_done)]:
        Alert.objects.filter(pk=alert.pk).update(created_at=now - datetime.timedelta(days=days_ago))
    # The queue's order: open first, the most severe and newest of them first; then those dealt with, in the order
    # they were acknowledged.
    return [old_open_urgent, new_open_watch, old_done, new_done]


def listed_order(html, alerts):
    found = sorted((html.index(f"/admin/recovery/alert/{alert.pk}/change/"), alert.pk) for alert in alerts)
    return [pk for _at, pk in found]


def test_the_alerts_queue_keeps_its_order_acknowledged_ones_too(clinician_client, clinician):
    order = alerts_of_every_kind(make_plan(), clinician)
    assert listed_order(clinician_client.get(ALERTS_URL).text, order) == [alert.pk for alert in order]
    assert list(Alert.objects.by_priority()) == order


def test_the_patients_page_lists_an_older_open_alert_above_newer_acknowledged_ones(clinician_client, clinician):
    plan = make_plan()
    order = alerts_of_every_kind(plan, clinician)
    kinds = [alert.kind for alert in order]
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    # The red flag of 20 days ago, still open, first: by date alone it sat below the alerts dealt with since.
    assert re.findall(r'data-alert-row="(\w+)"', page) == kinds
    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).text
    assert re.findall(r'data-alert-row="(\w+)"', summary) == kinds


def test_the_check_ins_list_shows_each_days_warning_signs(clinician_client):
    plan = make_plan(PatientFactory(email="flags@example.com"))
    CheckInFactory(plan=plan, date=clinic_today(), pain=3, night_pain=True, fever_or_hot_joint=True)
    CheckInFactory(plan=plan, date=clinic_today() - datetime.timedelta(days=1), pain=1)
    html = clinician_client.get("/admin/recovery/checkin/").content.decode()
    assert "<h1>Select check-in to view</h1>" in html  # the model's name with its hyphen
    assert "pain at night; fever, or a hot swollen joint" in html
    assert html.count('<td class="field-warning_signs">–</td>') == 1


def test_acknowledging_an_alert_records_who_when_and_the_note(clinician_client, clinician):
    alert = alert_for(make_plan())
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    form = clinician_client.get(url).text
    # The button says what saving does; no "Save and continue editing" that would acknowledge it unawares.
    assert 'value="Acknowledge the alert"' in form and "_continue" not in form and "Say what you did" in form
    response = clinician_client.post(url, {"acknowledgement_note": "Phoned, all fine."}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:recovery_alert_changelist")
    assert "Alert acknowledged: high pain" in response.text
    alert.refresh_from_db()
    assert alert.acknowledged_by == clinician and alert.acknowledged_at is not None
    assert alert.acknowledgement_note == "Phoned, all fine."
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[alert.plan_id])).content.decode()
    assert "Phoned, all fine." in page


def test_a_note_that_fits_its_box_is_not_refused_for_the_two_characters_a_browser_sends_per_line_break(
    clinician_client, clinician
):
    """The box counts a line break once and the browser sends it as CRLF: 2,000 in the box were "it has 2018"."""
    note = "\r\n".join(["x" * 99] * 20)  # 1,999 characters in the box, 2,018 as sent
    alert = alert_for(make_plan())
    clinician_client.post(reverse("admin:recovery_alert_change", args=[alert.pk]), {"acknowledgement_note": note})
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.acknowledgement_note == note.replace("\r\n", "\n")


def test_a_note_too_long_is_refused_with_its_length_not_cut_short(clinician_client):
    alert = alert_for(make_plan())
    note = "Phoned the patient. " * 125  # 2,500 characters
    response = clinician_client.post(
        reverse("admin:recovery_alert_change", args=[alert.pk]), {"acknowledgement_note": note}
    )
    assert response.status_code == 200 and "at most 2000 characters (it has 2499)" in response.text
    alert.refresh_from_db()
    assert alert.acknowledged_at is None  # still in the queue, and the clinician still has the whole note on screen
    assert note.strip() in response.text


def test_after_acknowledging_the_queue_comes_back_filtered_as_it_was(clinician_client):
    alert = alert_for(make_plan())
    filters = "state=open&severity__exact=2"
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    response = clinician_client.post(
        f"{url}?_changelist_filters={quote(filters)}", {"acknowledgement_note": "Phoned, all fine."}
    )
    assert response["Location"] == f"{ALERTS_URL}?{filters}"


def test_acknowledging_twice_from_two_tabs_says_it_was_you(clinician_client, clinician):
    alert = alert_for(make_plan())
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now(), acknowledged_by=clinician)
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    response = clinician_client.post(url, {"acknowledgement_note": "Again"}, follow=True)
    assert "You had already acknowledged this alert; the first acknowledgement is kept." in response.text


def test_a_second_acknowledgement_keeps_the_first_without_an_error_page(clinician_client, clinician):
    from tests.factories import ClinicianFactory

    alert = alert_for(make_plan())
    colleague = ClinicianFactory()
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now(), acknowledged_by=colleague)
    # The clinician's form was opened before the colleague acknowledged: their save must not overwrite it.
    response = clinician_client.post(
        reverse("admin:recovery_alert_change", args=[alert.pk]), {"acknowledgement_note": "Me too"}, follow=True
    )
    assert response.status_code == 200
    assert "had already acknowledged this alert; kept theirs. Your note is added to it, with your name." in (
        response.text
    )
    assert "Alert acknowledged" not in response.text
    alert.refresh_from_db()
    assert alert.acknowledged_by == colleague
    assert alert.acknowledgement_note.startswith(f"Added by {clinician.get_full_name()} at ")
    assert alert.acknowledgement_note.endswith(": Me too")  # what they typed is not lost
    assert (
        'value="Acknowledge the alert"'
        not in clinician_client.get(reverse("admin:recovery_alert_change", args=[alert.pk])).text
    )


def test_a_late_note_follows_the_colleagues_own_and_a_note_too_long_for_both_is_quoted_back(clinician_client):
    from tests.factories import ClinicianFactory

    alert = alert_for(make_plan())
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_at=timezone.now(), acknowledged_by=ClinicianFactory(), acknowledgement_note="Phoned the patient."
    )
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    clinician_client.post(url, {"acknowledgement_note": "Booked an appointment for Monday."})
    alert.refresh_from_db()
    first, added = alert.acknowledgement_note.split("\n\n")
    assert first == "Phoned the patient." and added.endswith(": Booked an appointment for Monday.")

    long_note = "x" * 1990
    response = clinician_client.post(url, {"acknowledgement_note": long_note}, follow=True)
    assert f"Your note did not fit beside theirs, so it is not saved: “{long_note}”." in unescape(response.text)
    # The alert's History says what each save did: one note added, and nothing for the note not saved.
    from django.contrib.admin.models import LogEntry

    assert list(LogEntry.objects.filter(object_id=str(alert.pk)).values_list("change_message", flat=True)) == [
        "Added a note"
    ]


def test_the_queue_gives_acknowledgement_times_in_the_clinics_time(clinician_client, clinician):
    alert = alert_for(make_plan())
    summer_morning = datetime.datetime(2026, 7, 1, 8, 10, tzinfo=datetime.UTC)  # 09:10 in London (BST)
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=summer_morning, acknowledged_by=clinician)
    html = clinician_client.get(reverse("admin:recovery_alert_changelist") + "?state=all").text
    assert f"{clinician} · 01 Jul 09:10" in unescape(html)


def test_bulk_acknowledge_with_a_note(clinician_client, clinician):
    plan = make_plan()
    alerts = [alert_for(plan, kind) for kind in (Alert.Kind.HIGH_PAIN, Alert.Kind.RISING_PAIN)]
    ids = [str(alert.pk) for alert in alerts]
    confirm = clinician_client.post(ALERTS_URL, {"action": "acknowledge_selected", "_selected_action": ids})
    assert confirm.status_code == 200 and "Acknowledge" in confirm.content.decode()
    clinician_client.post(
        ALERTS_URL, {"action": "acknowledge_selected", "_selected_action": ids, "apply": "1", "note": "Seen in clinic"}
    )
    assert Alert.objects.filter(acknowledged_by=clinician, acknowledgement_note="Seen in clinic").count() == 2


def seen_at_on(page):
    return re.search(r'name="seen_at" value="([^"]+)"', page)[1]


def test_an_alert_the_patient_changed_while_it_was_read_is_not_acknowledged_unread(clinician_client):
    """Read as "pain at night", then the patient added bladder trouble (call 999) while the note was typed."""
    alert = alert_for(make_plan())
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    shown = seen_at_on(clinician_client.get(url).text)
    Alert.objects.filter(pk=alert.pk).update(reason="Now worse: told to call 999.", updated_at=timezone.now())
    typed = "Phoned: night pain only, booked for Monday."
    response = clinician_client.post(url, {"acknowledgement_note": typed, "seen_at": shown})
    assert response.status_code == 200 and "The patient changed this alert while you were reading it" in response.text
    assert "Now worse: told to call 999." in response.text and typed in response.text  # the new words, the note kept
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    again = clinician_client.post(
        url, {"acknowledgement_note": "Called 999 for her.", "seen_at": seen_at_on(response.text)}
    )
    assert again.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None


@pytest.mark.parametrize("tampered", ["2026-11-27T10:00:00", "2026-11-27T25:00:00+00:00", "not a time"])
def test_an_unreadable_time_the_page_was_read_acknowledges_nothing_and_is_no_error(clinician_client, tampered):
    alert = alert_for(make_plan())
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    response = clinician_client.post(url, {"acknowledgement_note": "Seen.", "seen_at": tampered})
    assert response.status_code == 200 and "The patient changed this alert while you were reading it" in response.text
    data = {"action": "acknowledge_selected", "_selected_action": [alert.pk], "apply": "1", "note": "Seen."}
    assert clinician_client.post(ALERTS_URL, {**data, "seen_at": tampered}).status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_a_bulk_acknowledgement_shows_each_reason_and_leaves_one_changed_since_open(clinician_client):
    plan = make_plan()
    kept, changed = [alert_for(plan, kind) for kind in (Alert.Kind.HIGH_PAIN, Alert.Kind.RISING_PAIN)]
    ids = [str(kept.pk), str(changed.pk)]
    confirm = clinician_client.post(ALERTS_URL, {"action": "acknowledge_selected", "_selected_action": ids}).text
    assert confirm.count("Pain 7/10 in today&#x27;s check-in.") == 2
    Alert.objects.filter(pk=changed.pk).update(updated_at=timezone.now() + datetime.timedelta(seconds=1))
    data = {"action": "acknowledge_selected", "_selected_action": ids, "apply": "1", "note": "Seen in clinic"}
    response = clinician_client.post(ALERTS_URL, {**data, "seen_at": seen_at_on(confirm)}, follow=True)
    assert "1 alert acknowledged." in response.text
    assert "1 changed by the patient while you were reading, so left open: read it again." in response.text
    assert Alert.objects.get(pk=changed.pk).acknowledged_at is None


def test_an_alerts_earlier_versions_read_one_a_line_oldest_first(clinician_client):
    """A fifteen-line paragraph in the queue, the alert's page and the patient's page alike (clinician's audit)."""
    at = timezone.localtime()
    reason = safety.changed_reason("Confusion: told to call 999.", "Night pain.", when=at)
    reason = safety.withdrawn_reason(reason, at)
    alert = alert_for(make_plan())
    Alert.objects.filter(pk=alert.pk).update(reason=reason)
    queue = clinician_client.get(ALERTS_URL).text
    assert "Withdrawn at " in queue and "(2 earlier versions on its page)" in queue and "Night pain." not in queue
    for url in (
        reverse("admin:recovery_alert_change", args=[alert.pk]),
        reverse("admin:recovery_recoveryplan_change", args=[alert.plan_id]),
    ):
        page = clinician_client.get(url).text
        history = re.search(r'<ul class="apex-alert-history">(.*?)</ul>', page, re.S)[1]
        assert re.findall(r"it had said: ([^<]*)</li>", history) == ["Night pain.", "Confusion: told to call 999."]


def test_the_patients_page_opens_with_their_number_and_their_open_alerts(clinician_client):
    """The number was on no clinical page, and the alerts panel 2,300 pixels down (clinician's audit)."""
    plan = make_plan(PatientFactory(first_name="Pat", last_name="Lee", phone="07700 900123"))
    alert_for(plan)
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    contact = page[page.index("data-contact") : page.index("</p>", page.index("data-contact"))]
    assert "Pat Lee" in contact and 'href="tel:07700900123"' in contact
    assert '<a href="#alerts-heading" class="apex-flag apex-flag-alert">1 open alert</a>' in contact
    assert page.index("data-contact") < page.index('name="note_to_patient"')


def test_an_alert_is_not_acknowledged_without_a_word_of_what_was_done(clinician_client):
    plan = make_plan()
    alerts = [alert_for(plan, kind) for kind in (Alert.Kind.HIGH_PAIN, Alert.Kind.RISING_PAIN)]
    one = clinician_client.post(
        reverse("admin:recovery_alert_change", args=[alerts[0].pk]), {"acknowledgement_note": ""}
    )
    assert (
        one.status_code == 200 and "Say what you did, so your colleagues know how the alert was dealt with." in one.text
    )
    ids = [str(alert.pk) for alert in alerts]
    many = clinician_client.post(
        ALERTS_URL, {"action": "acknowledge_selected", "_selected_action": ids, "apply": "1", "note": "  "}
    )
    assert "Say what you did" in many.text
    assert not Alert.objects.filter(acknowledged_at__isnull=False).exists()  # both still open in the queue


def test_a_check_ins_note_keeps_its_line_breaks_on_the_patients_page(clinician_client):
    plan = make_plan(days_since_race=3)
    CheckInFactory(plan=plan, date=clinic_today(), pain=2, note="Better lying down.\nStill a headache.")
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    assert "Better lying down.<br>Still a headache." in page


def test_changing_a_steps_words_starts_from_the_words_the_patient_reads_now(clinician_client):
    """The form gave a one-line box for 300 characters and never showed the step's current instruction."""
    plan = make_plan(days_since_race=5)
    stretch = plan.steps.get(key="stretch")
    page = clinician_client.get(reverse("admin:recovery_plan_change_step", args=[plan.pk])).text
    words = page[page.index("data-current-words") :]
    assert f"<td>{stretch.label}</td><td>{escape(stretch.instruction)}</td>" in words
    assert re.search(r'<textarea[^>]*name="instruction"', page)
    assert "css/admin.css" in page  # its tablet rules: the side menu gives the form the width


def test_a_patients_page_names_each_check_ins_warning_signs(clinician_client):
    plan = make_plan(days_since_race=3)
    CheckInFactory(plan=plan, date=clinic_today(), pain=2, night_pain=True, cannot_bear_weight=True)
    CheckInFactory(plan=plan, date=clinic_today() - datetime.timedelta(days=1), pain=1)
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).content.decode()
    assert '<th scope="col">Warning signs</th>' in page
    assert "<td>pain at night; unable to bear weight on the leg</td>" in page and "<td>–</td>" in page


def test_a_patients_page_says_when_a_late_enrolment_starts_the_scores(clinician_client):
    late, on_race_day = make_plan(days_since_race=6), make_plan(days_since_race=6, enrolled_days_ago=6)
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[late.pk])).content.decode()
    assert f"Enrolled on {clinic_today():%-d %b %Y} (day 6): days before it count only where the patient" in page
    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[late.pk])).content.decode()
    assert "(enrolled on day 6: days before it count only where filled in)" in summary
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[on_race_day.pk])).content.decode()
    assert "data-joined" not in page


def test_the_visit_summary_has_adherence_per_step_pain_alerts_and_sign_off(clinician_client, clinician):
    plan = make_plan(days_since_race=3)
    finish_yesterday(plan)
    CheckInFactory(plan=plan, pain=3)
    alert = alert_for(plan)
    Alert.objects.filter(pk=alert.pk).update(acknowledged_at=timezone.now(), acknowledged_by=clinician,
                                             acknowledgement_note="Booked a visit")  # fmt: skip
    html = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).content.decode()
    assert "Visit summary" in html and 'data-step="ice"' in html
    assert "Apex Recovery · clinic workspace" in html and "Django administration" not in html
    assert html.count("<h1") == 1
    assert "Booked a visit" in html and "not yet cleared" in html and '<svg class="pain-chart"' in html


def test_the_visit_summary_keeps_to_one_page_the_steps_under_way_and_two_weeks_of_check_ins(clinician_client):
    plan = make_plan(days_since_race=30, enrolled_days_ago=30)
    for days_ago in range(30):
        CheckInFactory(plan=plan, date=clinic_today() - datetime.timedelta(days=days_ago), pain=2)
    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).text
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    assert 'data-step="ice"' in summary  # over, but done in its days: its share stays
    # The running steps wait for a sign-off: on today's checklist, held, which the appointment may decide.
    assert (
        'data-step="warm-up"><td>Warm up before you run</td><td>Up to 3 times a week, from day 21. Held until '
        in summary
    )
    # A step still to come, with nothing recorded, is on the patient's page only.
    later = make_plan(days_since_race=9)
    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[later.pk])).text
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[later.pk])).text
    assert 'data-step="strength"' not in summary and 'data-step="strength"' in page
    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).text
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    check_ins = summary[summary.index("Check-ins (latest first)") :].count("/10</td>")
    assert check_ins == 14 and page[page.index("Check-ins (latest first)") :].count("/10</td>") > 14


def test_todays_day_off_leaves_the_per_step_week_as_the_headline_leaves_it(clinician_client):
    plan = make_plan(days_since_race=12, enrolled_days_ago=12)
    for day in range(13):
        CheckInFactory(plan=plan, date=plan.race_date + datetime.timedelta(days=day), pain=1)
    Completion.objects.create(
        plan=plan, step_key="cross-train", date=plan.race_date + datetime.timedelta(days=7), count=1
    )
    url = reverse("admin:recovery_plan_visit_summary", args=[plan.pk])

    def step_rows():
        page = clinician_client.get(url).text
        return re.findall(r'<tr data-step="([\w-]+)"><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>', page)

    before = step_rows()
    day_excuse(plan=plan, date=clinic_today(), today=clinic_today(), reason="flu")
    assert step_rows() == before  # the 7 days to yesterday, as recorded by their end


def test_the_patients_page_shows_their_days_off_with_their_reasons(clinician_client):
    plan = make_plan(days_since_race=12, enrolled_days_ago=12)
    day_excuse(plan=plan, date=clinic_today(), today=clinic_today(), reason="fever, feel awful")
    day_excuse(plan=plan, date=clinic_today() - datetime.timedelta(days=1), today=clinic_today())
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text
    rows = re.findall(r"<tr data-day-off><td>[^<]*</td><td>([^<]*)</td>", page)
    assert rows == ["fever, feel awful", "No reason given."]
    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).text
    assert "fever, feel awful" in summary


def test_the_adherence_export_is_a_csv_of_the_selected_patients(clinician_client):
    first, second = make_plan(days_since_race=1), make_plan(days_since_race=1, enrolled_days_ago=1)
    finish_yesterday(first)
    response = clinician_client.post(
        PLANS_URL, {"action": "export_adherence", "_selected_action": [first.pk, second.pk]}
    )
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows[first.patient.email]["done, 7 days to yesterday (%)"] == "100"
    assert rows[second.patient.email]["done, 7 days to yesterday (%)"] == "0"
    assert (rows[first.patient.email]["status"], rows[first.patient.email]["clinician"]) == ("Active", "")


def test_the_adherence_export_says_a_paused_plans_status_and_whose_patient_it_is(clinician_client):
    """A paused plan does not pass for an active one, and the clinician in charge is named."""
    paused = make_plan(days_since_race=6, clinician=ClinicianFactory(first_name="Sam", last_name="Patel"))
    care.plan_set_status(plan=paused, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    response = clinician_client.post(PLANS_URL, {"action": "export_adherence", "_selected_action": [paused.pk]})
    [row] = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert (row["email"], row["status"], row["clinician"]) == (paused.patient.email, "Paused", "Sam Patel")


@pytest.mark.parametrize(
    ("earlier", "latest", "shown"),
    [((3, 4), 6, "6/10 ↑ rising"), ((7, 6), 4, "4/10 ↓ falling"), ((5, 4), 5, "5/10 → steady")],
)
def test_the_pain_column_shows_the_latest_score_and_which_way_it_is_going(clinician_client, earlier, latest, shown):
    """Against the average of the scores of the three days before it: a point or more up or down is a trend."""
    plan = make_plan(PatientFactory(email="trend@example.com"), days_since_race=6)
    for days_ago, pain in zip((2, 1), earlier, strict=True):
        CheckInFactory(plan=plan, date=clinic_today() - datetime.timedelta(days=days_ago), pain=pain)
    CheckInFactory(plan=plan, pain=latest)
    row = row_of(clinician_client.get(PLANS_URL).content.decode(), "trend@example.com")
    assert f'<td class="field-pain">{shown}</td>' in row


def test_reception_cannot_open_the_clinicians_pages(client):
    plan = make_plan()
    client.force_login(ReceptionFactory())
    for url in (
        PLANS_URL, ALERTS_URL, reverse("admin:recovery_plan_visit_summary", args=[plan.pk]),
        reverse("admin:recovery_recoveryplan_change", args=[plan.pk]),
    ):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_field_of_the_tailoring_and_acknowledging_forms_has_the_help_its_reader_points_to(clinician_client):
    # A screen reader reads a field's help through aria-describedby: each id it names must be on the page.
    plan = make_plan()
    alert = alert_for(plan)
    pages = [
        reverse("admin:recovery_plan_change_step", args=[plan.pk]),
        reverse("admin:recovery_plan_add_step", args=[plan.pk]),
    ]
    html = [clinician_client.get(url).text for url in pages]
    html.append(
        clinician_client.post(
            reverse("admin:recovery_alert_changelist"),
            {"action": "acknowledge_selected", "_selected_action": [alert.pk]},
        ).text
    )
    for page in html:
        described = re.findall(r'aria-describedby="([^"]+)"', page)
        assert described
        for ids in described:
            for name in ids.split():
                assert f'id="{name}"' in page, name


def test_the_visit_summary_lists_open_alerts_and_the_last_two_weeks_not_every_old_one(clinician_client, clinician):
    plan = make_plan(days_since_race=40, enrolled_days_ago=40)
    old_open = alert_for(plan, kind=Alert.Kind.RED_FLAG, days_ago=30)
    old_done = alert_for(plan, kind=Alert.Kind.HIGH_PAIN, days_ago=25)
    recent_done = alert_for(plan, kind=Alert.Kind.HIGH_PAIN, days_ago=3)
    Alert.objects.filter(pk__in=[old_done.pk, recent_done.pk]).update(
        acknowledged_at=timezone.now(), acknowledged_by=clinician, acknowledgement_note="Called"
    )

    summary = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).text
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).text

    assert summary.count("<tr data-alert-row=") == 2  # the open one, however old, and the recent one
    assert f"/admin/recovery/alert/{old_open.pk}/change/" in summary
    # Printed, each page is headed by whose summary it is (a table's header repeats on every page).
    heading = f"<thead><tr><td>Visit summary — {plan.patient.get_full_name()} · {clinic_today():%-d %b %Y}</td></tr>"
    assert heading in unescape(summary)
    older = "1 older alert, all acknowledged: listed on this patient's page in the clinic workspace."
    assert older in unescape(summary)
    rows = re.findall(r'<tr data-alert-row="(\w+)">', summary)
    assert rows == ["red_flag", "high_pain"]  # the open one first, however old
    assert page.count("<tr data-alert-row=") == 3 and "data-older-alerts" not in page

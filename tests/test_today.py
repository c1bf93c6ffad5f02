"""The patient's day: /today/, ticking doses off and undoing them, and days off."""

import datetime
import re
from html import unescape
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import UNSAVED_POST
from clinic.htmx_reload import MAYBE_NOT_SAVED, NOT_SAVED
from recovery.care import plan_set_status
from recovery.checkins import check_in_save
from recovery.clock import clinic_today
from recovery.models import CheckIn, Completion, ExcusedDay, PlanStep, RecoveryPlan, SafetyThresholds
from tests.factories import PASSWORD, CheckInFactory, ClinicianFactory, PatientFactory, ReceptionFactory, make_plan

pytestmark = pytest.mark.django_db

TODAY_URL = "/today/"


def task_attrs(response, key):
    """The data-* attributes of a task on the page, as the patient's browser (and tests) read them."""
    html = response.content.decode()
    start = html.index(f'data-task="{key}"')
    tag = html[html.rindex("<li", 0, start) : html.index(">", start)]
    attrs = dict(part.split("=", 1) for part in tag.replace('"', "").split() if "=" in part)
    return {name: attrs[name] for name in ("data-done", "data-target", "data-complete", "data-locked")}


def step(plan, key):
    return PlanStep.objects.get(plan=plan, key=key)


def tick(client, plan, key, count, date=None, *, shown=None, **headers):
    """A tap on a task's button. ``shown``: the count the page showed, sent as the page sends it (with ``back``)."""
    date = date or clinic_today()
    url = reverse("recovery:tick", args=[step(plan, key).pk])
    data = {"date": date.isoformat(), "count": count}
    if shown is not None:
        data |= {"shown": shown, "back": (clinic_today() - date).days}
    return client.post(url, data, **headers)


def test_today_lists_the_days_tasks_in_plan_order_with_their_doses(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    response = patient_client.get(TODAY_URL)
    assert response.status_code == 200
    html = response.content.decode()
    keys = [step.key for step in plan.steps.order_by("position") if step.first_day <= 1 <= (step.last_day or 99)]
    positions = [html.index(f'data-task="{key}"') for key in keys]
    assert positions == sorted(positions)
    assert task_attrs(response, "ice") == {
        "data-done": "0",
        "data-target": "3",
        "data-complete": "false",
        "data-locked": "false",
    }
    assert "Ice the hip for 15–20 minutes" in html
    assert reverse("recovery:tip", args=["ice-therapy"]) in html
    assert "Day 1 after your race" in html and "Protect" in html
    assert '<a class="tap-link" href="/progress/#road-heading">What comes next</a>' in html  # the plan phase by phase


def test_the_first_day_of_a_phase_says_so_with_the_clinics_words_for_it(patient_client, patient):
    make_plan(patient, days_since_race=15)
    html = patient_client.get(TODAY_URL).content.decode()
    assert "Today you start the Strengthen phase." in html
    assert "Lunges and squats join the strength work; cross-training continues." in html
    # Only on the day itself.
    assert "data-new-phase" not in patient_client.get(TODAY_URL + "?back=1").content.decode()


def test_a_step_starting_today_is_marked_new(patient_client, patient):
    make_plan(patient, days_since_race=7)
    CheckInFactory(plan=patient.plans.get(), pain=1)  # opens the pain gates
    html = patient_client.get(TODAY_URL).content.decode()
    rows = re.findall(r'data-task="([^"]+)".*?<h2 class="task-title">[^<]*(<span[^>]*data-new-task>)?', html, re.S)
    assert [key for key, badge in rows if badge] == ["strength-early", "cross-train"]


def test_a_step_tailored_from_today_says_what_changed_in_how_often(patient_client, patient):
    from recovery.care import plan_step_change

    plan = make_plan(patient, days_since_race=1)
    plan_step_change(plan=plan, key="ice", from_date=clinic_today(), today=clinic_today(), doses_per_day=2)
    plan_step_change(plan=plan, key="rest", from_date=clinic_today(), today=clinic_today(), instruction="Walk only.")
    page = patient_client.get(TODAY_URL)
    assert "data-updated-task" in task_row(page, "ice")
    assert "Now 2 times a day, was 3 times a day." in task_row(page, "ice")
    assert "data-updated-task" in task_row(page, "rest") and "data-what-changed" not in task_row(page, "rest")


def test_a_day_in_the_middle_of_a_phase_announces_nothing(patient_client, patient):
    make_plan(patient, days_since_race=16)
    assert "data-new-phase" not in patient_client.get(TODAY_URL).content.decode()


def test_ticking_ice_three_times_counts_each_dose(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    for count in (1, 2, 3):
        response = tick(patient_client, plan, "ice", count)
        assert response.status_code == 302
    page = patient_client.get(TODAY_URL)
    assert task_attrs(page, "ice")["data-done"] == "3"
    assert task_attrs(page, "ice")["data-complete"] == "true"
    assert Completion.objects.get(plan=plan, step_key="ice").count == 3


def row_count_words(response, key):
    count = re.search(r'<p class="task-count[^"]*"[^>]*>(.*?)</p>', task_row(response, key), re.S)[1]
    return " ".join(re.sub(r"<span[^>]*>.*?</span>", "", count).split())  # without the tick mark


def test_a_once_a_day_task_reads_done_or_not_done_yet_not_a_sum(patient_client, patient):
    plan = make_plan(patient, days_since_race=2)
    assert row_count_words(patient_client.get(TODAY_URL), "rest") == "Not done yet"
    assert row_count_words(patient_client.get(TODAY_URL), "ice") == "0 of 3 done"  # several a day: a count
    tick(patient_client, plan, "rest", 1)
    assert row_count_words(patient_client.get(TODAY_URL), "rest") == "Done"
    assert row_count_words(patient_client.get(f"{TODAY_URL}?back=1"), "rest") == "Not done"


def test_a_tick_can_be_undone(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    tick(patient_client, plan, "ice", 2)
    tick(patient_client, plan, "ice", 1)
    assert task_attrs(patient_client.get(TODAY_URL), "ice")["data-done"] == "1"
    tick(patient_client, plan, "ice", 0)
    assert task_attrs(patient_client.get(TODAY_URL), "ice")["data-done"] == "0"
    assert not Completion.objects.filter(plan=plan).exists()  # rows exist only for what was ticked


def test_a_double_click_or_retry_leaves_the_same_state_as_one_click(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    tick(patient_client, plan, "ice", 1)
    tick(patient_client, plan, "ice", 1)
    assert Completion.objects.get(plan=plan, step_key="ice").count == 1


def test_with_htmx_the_row_comes_back_alone_with_its_new_count(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    response = tick(patient_client, plan, "ice", 1, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment, not a page
    assert html.count("data-task=") == 1
    assert task_attrs(response, "ice")["data-done"] == "1"
    assert "Done one more (2 of 3)" in html
    assert 'id="day-summary"' in html and 'hx-swap-oob="true"' in html


def day_summary(response):
    html = response.content.decode()
    return re.sub(r"<[^>]+>|\s+", " ", re.search(r'<p id="day-summary"[^>]*>(.*?)</p>', html, re.S)[1]).split()


def test_the_day_summary_counts_tasks_and_says_well_done_at_the_last_one(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    page = patient_client.get(TODAY_URL)
    open_rows = re.findall(r'data-task="([^"]+)" data-done="\d+" data-target="(\d+)"\s+data-complete="\w+" '
                           r'data-locked="false"', page.content.decode())  # fmt: skip
    locked = page.content.decode().count('data-locked="true"')
    assert locked, "the stretches wait for a low pain score"
    also_locked = f"({locked} more locked for now)"  # the cards on the page add up to what the summary says
    assert len(open_rows) >= 2 and " ".join(day_summary(page)) == f"0 of {len(open_rows)} tasks done {also_locked}"
    # The check-in task is ticked off by the check-in itself (a pain of 5 keeps the stretches locked).
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 5}, today=clinic_today())
    *first_rows, (last_key, last_target) = [(key, target) for key, target in open_rows if key != "check-in"]
    for key, target in first_rows:
        tick(patient_client, plan, key, int(target))
    assert " ".join(day_summary(patient_client.get(TODAY_URL))).startswith(f"{len(open_rows) - 1} of {len(open_rows)}")
    last = tick(patient_client, plan, last_key, int(last_target), HTTP_HX_REQUEST="true")
    done = f"All {len(open_rows)} tasks done. Well done! {also_locked}"
    assert " ".join(day_summary(last)) == done  # swapped in by htmx
    assert " ".join(day_summary(patient_client.get(TODAY_URL))) == done


def test_a_day_with_one_task_open_says_it_is_done_in_words_not_all_1_task(patient_client, patient):
    plan = make_plan(patient, days_since_race=18)
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 4}, today=clinic_today())  # the exercises wait
    summary = " ".join(day_summary(patient_client.get(TODAY_URL)))
    assert summary.startswith("Today's task is done. Well done! (") and "All 1 task" not in summary


def test_after_a_check_in_with_high_pain_the_day_says_stop_and_call_not_well_done(patient_client, patient):
    """The check-in's stop screen (pain at the alert level) is echoed on the checklist, without praise beneath."""
    plan = make_plan(patient, days_since_race=5)
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 1}, today=clinic_today())
    for row in re.findall(r'data-task="([^"]+)" data-done="\d+" data-target="(\d+)"',
                          patient_client.get(TODAY_URL).text):  # fmt: skip
        if row[0] != "check-in":
            tick(patient_client, plan, row[0], int(row[1]))
    assert "Well done!" in " ".join(day_summary(patient_client.get(TODAY_URL)))
    assert "data-warning" not in patient_client.get(TODAY_URL).text
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 8}, today=clinic_today())
    page = patient_client.get(TODAY_URL)
    assert 'data-warning="pain"' in page.text
    assert "Today's check-in said your pain is 8 out of 10." in unescape(page.text)
    assert "Please stop your exercises, rest your hip and call us" in page.text and 'href="tel:999"' in page.text
    assert "Well done!" not in " ".join(day_summary(page))
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 5}, today=clinic_today())  # amber: no stop
    assert "data-warning" not in patient_client.get(TODAY_URL).text


def test_the_next_morning_the_stop_banner_says_whose_check_in_it_repeats(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, pain=7, date=clinic_today() - datetime.timedelta(days=1))
    assert "Yesterday's check-in said your pain is 7 out of 10." in unescape(patient_client.get(TODAY_URL).text)
    three_days_ago = clinic_today() - datetime.timedelta(days=3)
    CheckIn.objects.filter(plan=plan).update(date=three_days_ago, groin_pain_on_weight=True, pain=2)
    banner = patient_client.get(TODAY_URL).text
    assert f"You reported a warning sign in your check-in of {three_days_ago:%A %-d %B}." in banner


def test_a_pain_gated_task_tells_a_patient_who_never_checked_in_to_check_in(patient_client, patient):
    make_plan(patient, days_since_race=5)
    page = patient_client.get(TODAY_URL).text
    assert "Unlocks after a check-in, once your pain is 3/10 or less." in page
    assert "Unlocks once your pain is" not in page  # they never told us any pain


def test_without_javascript_a_tick_redirects_back_to_the_day(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    yesterday = clinic_today() - datetime.timedelta(days=1)
    response = tick(patient_client, plan, "compression", 1, date=yesterday)
    assert response.status_code == 302
    assert response["Location"] == f"{TODAY_URL}?back=1#task-compression"  # scrolled back to the task just ticked
    assert task_attrs(patient_client.get(response["Location"]), "compression")["data-done"] == "1"


def test_the_page_offers_one_more_and_undo_buttons_that_post_the_wanted_count(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    tick(patient_client, plan, "ice", 1)
    html = patient_client.get(TODAY_URL).content.decode()
    row = html[html.index('data-task="ice"') :].split("</li>")[0]
    assert 'name="count" value="2"' in row and 'name="count" value="0"' in row
    assert 'method="post"' in row and "csrfmiddlewaretoken" in row


def current_links(html):
    """(aria-current, words) of each link marked current, in the page's order."""
    return [
        (current, re.sub(r"<[^>]+>", "", words).strip())
        for current, words in re.findall(r'<a [^>]*aria-current="(\w+)"[^>]*>(.*?)</a>', html, re.S)
    ]


def test_only_the_main_menus_today_is_the_current_page_and_only_on_today(patient_client, patient):
    """Both "Today" links said they were the current page; on yesterday's, the menu's Today still said so."""
    make_plan(patient, days_since_race=3)
    assert current_links(patient_client.get(TODAY_URL).content.decode()) == [("page", "Today"), ("true", "Today")]
    yesterday = patient_client.get(f"{TODAY_URL}?back=1").content.decode()
    assert current_links(yesterday) == [("true", "Today"), ("true", "Yesterday")]


def test_yesterday_and_the_day_before_can_still_be_filled_in(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    for back in (1, 2):
        date = clinic_today() - datetime.timedelta(days=back)
        tick(patient_client, plan, "rest", 1, date=date)
        page = patient_client.get(f"{TODAY_URL}?back={back}")
        assert task_attrs(page, "rest")["data-done"] == "1"
    assert Completion.objects.filter(plan=plan, step_key="rest").count() == 2


@pytest.mark.parametrize("days_from_today", [1, -3, -30])
def test_future_days_and_days_too_far_back_are_refused_with_a_plain_message(patient_client, patient, days_from_today):
    plan = make_plan(patient, days_since_race=40)
    date = clinic_today() + datetime.timedelta(days=days_from_today)
    response = tick(patient_client, plan, "cross-train", 1, date=date)
    assert response.status_code == 302
    page = patient_client.get(response["Location"])
    text = page.content.decode()
    assert "hasn" in text or "too far back" in text
    assert not Completion.objects.filter(plan=plan).exists()


@pytest.mark.parametrize("count", [-1, 4, 99])
def test_a_count_outside_the_doses_is_refused_and_changes_nothing(patient_client, patient, count):
    plan = make_plan(patient, days_since_race=1)
    tick(patient_client, plan, "ice", 2)
    response = tick(patient_client, plan, "ice", count, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Choose a number from 0 to 3." in response.content.decode()
    assert Completion.objects.get(plan=plan, step_key="ice").count == 2


@pytest.mark.parametrize("data", [{"date": "yesterday", "count": "1"}, {"count": "one"}, {}])
def test_garbage_in_the_tick_form_is_a_plain_message_not_an_error_page(patient_client, patient, data):
    plan = make_plan(patient, days_since_race=1)
    response = patient_client.post(reverse("recovery:tick", args=[step(plan, "ice").pk]), data, follow=True)
    assert response.status_code == 200
    assert response.context["messages"]
    assert not Completion.objects.filter(plan=plan).exists()


def test_ticking_a_step_of_another_patients_plan_is_404(patient_client, patient, other_patient):
    make_plan(patient)
    theirs = make_plan(other_patient)
    response = tick(patient_client, theirs, "rest", 1)
    assert response.status_code == 404
    assert not Completion.objects.filter(plan=theirs).exists()


def test_ticking_a_step_that_does_not_exist_is_404(patient_client, patient):
    make_plan(patient)
    response = patient_client.post(reverse("recovery:tick", args=[999999]), {"date": clinic_today(), "count": 1})
    assert response.status_code == 404


def test_opening_a_ticks_address_changes_nothing_and_says_so_on_the_day(patient_client, patient):
    plan = make_plan(patient)
    url = reverse("recovery:tick", args=[step(plan, "rest").pk])
    response = patient_client.get(url, {"date": clinic_today().isoformat(), "count": 1}, follow=True)
    assert response.redirect_chain == [(TODAY_URL, 302)]
    assert "That wasn't saved, perhaps because you had been signed out. Please try again." in unescape(response.text)
    assert not Completion.objects.exists()
    assert patient_client.put(url).status_code == 405


def test_a_tick_sent_after_the_session_ran_out_comes_back_to_the_day_after_signing_in(client, patient):
    """The login page keeps the tick's address in ?next= but not the form: a GET of it must not be a blank page."""
    plan = make_plan(patient, days_since_race=3)
    sent = tick(client, plan, "rest", 1)  # signed out meanwhile: to the login page, the tick not saved
    assert sent["Location"].startswith("/accounts/login/?next=")
    login = client.get(sent["Location"])
    response = client.post(
        sent["Location"],
        {"username": patient.email, "password": PASSWORD, "next": login.context["next"]},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1] == (TODAY_URL, 302)
    assert "That wasn't saved" in unescape(response.text)
    assert task_attrs(response, "rest")["data-done"] == "0"


def test_a_day_off_with_too_long_a_reason_says_what_is_wrong_with_it(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    data = {"date": clinic_today().isoformat(), "reason": "x" * 201}
    response = patient_client.post(reverse("recovery:excuse"), data, follow=True)
    assert "Please keep the reason to 200 letters or fewer" in response.content.decode()
    assert "Choose today or one of the two days before." not in response.content.decode()
    assert not ExcusedDay.objects.filter(plan=plan).exists()


def test_a_day_off_reason_with_a_character_no_keyboard_types_is_not_called_too_long(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    data = {"date": clinic_today().isoformat(), "reason": "flu\x00"}
    page = patient_client.post(reverse("recovery:excuse"), data, follow=True).text
    assert "The reason holds a character we can&#x27;t keep" in page and "200 letters" not in page
    assert not ExcusedDay.objects.filter(plan=plan).exists()


def test_a_tick_through_htmx_on_a_page_left_open_overnight_brings_today_whole(patient_client, patient):
    """The day shown can no longer be changed: not a row of today's checklist inside the old day's page."""
    plan = make_plan(patient, days_since_race=10)
    too_far_back = clinic_today() - datetime.timedelta(days=3)
    response = tick(patient_client, plan, "rest", 1, date=too_far_back, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == TODAY_URL
    assert response.content == b""  # nothing to swap into the old page
    assert "too far back to change" in patient_client.get(TODAY_URL).content.decode()
    assert not Completion.objects.exists()


def test_a_tick_needs_the_csrf_token(patient, client):
    from django.test import Client

    plan = make_plan(patient)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(patient)
    response = tick(strict, plan, "rest", 1)
    assert response.status_code == 403
    assert not Completion.objects.exists()


def test_a_pain_gated_task_shows_why_it_is_locked_and_cannot_be_ticked(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, pain=5, date=clinic_today() - datetime.timedelta(days=1))
    page = patient_client.get(TODAY_URL)
    assert task_attrs(page, "stretch")["data-locked"] == "true"
    assert "Unlocks once your pain is 3/10 or less." in page.content.decode()
    tick(patient_client, plan, "stretch", 1)
    assert not Completion.objects.filter(plan=plan, step_key="stretch").exists()
    # At the stop level the row says what the banner says, not when it unlocks.
    CheckInFactory(plan=plan, pain=6)
    row = task_row(patient_client.get(TODAY_URL), "stretch")
    assert "On hold because of your pain score" in row and "Unlocks once" not in row


def test_a_low_pain_score_unlocks_the_stretches(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, pain=2, date=clinic_today())
    page = patient_client.get(TODAY_URL)
    assert task_attrs(page, "stretch")["data-locked"] == "false"
    tick(patient_client, plan, "stretch", 1)
    assert Completion.objects.filter(plan=plan, step_key="stretch").exists()


def test_clearance_gated_steps_stay_locked_until_a_clinician_signs_off(patient_client, patient):
    plan = make_plan(patient, days_since_race=22)
    assert task_attrs(patient_client.get(TODAY_URL), "warm-up")["data-locked"] == "true"
    assert "Unlocks once your clinician clears you to run." in patient_client.get(TODAY_URL).content.decode()
    plan.cleared_to_run_on = clinic_today()
    plan.save()
    page = patient_client.get(TODAY_URL)
    assert task_attrs(page, "warm-up")["data-locked"] == "false"
    # The day it opens: the phase's news says why, and the running steps are marked new then, not on day 21.
    assert "Today you start the Return to running phase. Your clinician has cleared you to run." in page.text
    assert "data-new-task" in task_row(page, "warm-up")


@pytest.mark.parametrize(
    ("check_in", "words"),
    [
        ({"pain": 8}, "On hold because of your pain score"),
        ({"pain": 2, "groin_pain_on_weight": True}, "On hold because of a warning sign"),
    ],
)
def test_after_the_sign_off_a_stop_holds_running_and_its_strength_work_too(patient_client, patient, check_in, words):
    # Running has no pain limit of its own: the stop the check-in calls for (a warning sign, or pain at the stop
    # level) must hold it, or the page shows "Strength session for runners" open under "Please stop your exercises".
    plan = make_plan(patient, days_since_race=25)
    plan.cleared_to_run_on = clinic_today() - datetime.timedelta(days=3)
    plan.save()
    CheckInFactory(plan=plan, **check_in)
    page = patient_client.get(TODAY_URL)
    assert 'data-warning="' in page.content.decode()
    for key in ("warm-up", "runner-strength", "form", "shoes"):
        assert task_attrs(page, key)["data-locked"] == "true", key
        assert words in task_row(page, key)
    refused = tick(patient_client, plan, "runner-strength", 1, HTTP_HX_REQUEST="true")
    assert words in refused.content.decode()
    assert not Completion.objects.filter(plan=plan, step_key="runner-strength").exists()
    CheckIn.objects.filter(plan=plan).update(pain=2, groin_pain_on_weight=False)  # the check-in, corrected
    assert task_attrs(patient_client.get(TODAY_URL), "runner-strength")["data-locked"] == "false"


def test_a_day_can_be_marked_as_a_day_off_and_taken_back(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    response = patient_client.post(reverse("recovery:excuse"), {"date": clinic_today().isoformat(), "reason": "flu"})
    assert response.status_code == 302
    page = patient_client.get(TODAY_URL).content.decode()
    assert "This day is a day off. It doesn" in page
    assert "You wrote: “flu”" in page  # the patient's own reason, shown back
    assert ExcusedDay.objects.get(plan=plan).reason == "flu"
    patient_client.post(reverse("recovery:excuse"), {"date": clinic_today().isoformat(), "undo": "1"})
    assert not ExcusedDay.objects.filter(plan=plan).exists()


def test_marking_a_day_off_and_taking_it_back_are_read_out_and_focused(patient_client, patient):
    """The page came back at its top with the words in the polite region: a screen reader heard nothing of them."""
    make_plan(patient, days_since_race=3)
    today = clinic_today().isoformat()
    patient_client.post(reverse("recovery:excuse"), {"date": today, "reason": "flu"})
    assert announced(patient_client.get(TODAY_URL).content.decode()) == [
        "Marked as a day off. It won&#x27;t count against your progress."
    ]
    patient_client.post(reverse("recovery:excuse"), {"date": today, "undo": "1"})
    assert announced(patient_client.get(TODAY_URL).content.decode()) == ["The day is back on your plan."]


def test_a_day_off_still_asks_how_the_hip_feels_and_is_no_sign_of_life(patient_client, patient):
    """ "Fever, feel awful" marked as a day off hid the check-in, and counted as activity: no inactive alert came."""
    plan = make_plan(patient, days_since_race=6)
    patient_client.post(reverse("recovery:excuse"), {"date": clinic_today().isoformat(), "reason": "fever"})
    page = patient_client.get(TODAY_URL).text
    assert "data-day-off-check-in" in page and 'href="/check-in/"' in page
    plan.refresh_from_db()
    assert plan.last_activity_on is None  # DESIGN.md: inactive means no tick and no check-in
    yesterday = patient_client.get(TODAY_URL + "?back=1").text
    assert "data-day-off-check-in" not in yesterday  # a check-in is today's only


def test_the_day_off_form_sends_a_warning_sign_to_the_check_in(patient_client, patient):
    """ "Fever 38.9, hip hot and swollen" written as a day off's reason raised nothing (clinician's audit)."""
    make_plan(patient, days_since_race=6)
    today = patient_client.get(TODAY_URL).text
    warning = today[today.index("data-day-off-warning") : today.index("</p>", today.index("data-day-off-warning"))]
    assert "A fever, a hot or swollen hip, or another warning sign?" in warning and 'href="/check-in/"' in warning
    assert "NHS 111 when we are closed" in warning  # an alert is seen in clinic hours: help now is a phone call
    assert "data-day-off-warning" not in patient_client.get(TODAY_URL + "?back=1").text  # the check-in is today's


def test_a_day_off_sent_again_with_other_words_keeps_the_latest(patient_client, patient):
    # Two tabs open: the page offers only "undo" once the day is off, but an older tab still has the form.
    plan = make_plan(patient, days_since_race=3)
    for reason in ("Flu", "Actually a hamstring strain"):
        patient_client.post(reverse("recovery:excuse"), {"date": clinic_today().isoformat(), "reason": reason})
    assert ExcusedDay.objects.get(plan=plan).reason == "Actually a hamstring strain"


def test_a_future_day_cannot_be_marked_as_a_day_off(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    response = patient_client.post(reverse("recovery:excuse"), {"date": tomorrow.isoformat()}, follow=True)
    assert "You can mark today or the two days before as a day off." in response.content.decode()
    assert not ExcusedDay.objects.filter(plan=plan).exists()


def test_a_patient_without_a_plan_is_told_to_ask_reception(patient_client):
    response = patient_client.get(TODAY_URL)
    assert response.status_code == 200
    assert "ask reception" in response.content.decode()


def test_a_paused_plan_cannot_be_ticked(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    response = tick(patient_client, plan, "ice", 1, follow=True)
    assert "paused" in response.content.decode()
    assert not Completion.objects.exists()


@pytest.mark.parametrize("factory", [ClinicianFactory, ReceptionFactory])
def test_staff_opening_today_are_sent_to_their_own_home(client, factory):
    client.force_login(factory())
    response = client.get(TODAY_URL)
    assert response.status_code == 302 and response["Location"] == "/"


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(TODAY_URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_discharged_patient_is_told_the_plan_is_complete_not_that_there_is_none(patient_client, patient):
    plan = make_plan(patient, days_since_race=30)
    RecoveryPlan.objects.filter(pk=plan.pk).update(status=RecoveryPlan.Status.COMPLETED)
    for url in (TODAY_URL, "/progress/", "/check-in/"):
        html = patient_client.get(url).content.decode()
        assert "Your recovery plan is complete" in html and "You don't have a recovery plan yet" not in html, url
    assert f"your race of {plan.race_date.day} {plan.race_date:%B %Y}" in html
    assert 'href="/tips/#prevention-heading"' in html and 'href="/account/"' in html


def test_a_patient_never_enrolled_is_asked_to_see_reception(patient_client, patient):
    html = patient_client.get(TODAY_URL).content.decode()
    assert "You don't have a recovery plan yet" in html and "ask reception" in html


# -- A tick through htmx that cannot get its row back reloads the page ---------------------------------------------


def test_a_tick_through_htmx_after_signing_out_reloads_the_page_instead_of_swapping_the_login_page(client, patient):
    plan = make_plan(patient, days_since_race=1)
    response = tick(client, plan, "ice", 1, HTTP_HX_REQUEST="true")  # signed out: login_required redirects
    assert response.status_code == 200 and response["HX-Refresh"] == "true" and response.content == b""
    assert "Location" not in response  # else the browser would follow it and htmx swap the login page into the row
    plain = tick(client, plan, "ice", 1)  # without JavaScript: the login page, as before
    assert plain.status_code == 302 and plain["Location"].startswith("/accounts/login/")
    assert not Completion.objects.exists()


def test_a_tick_through_htmx_that_is_refused_outright_reloads_the_page(patient_client, patient, other_patient):
    make_plan(patient)
    theirs = make_plan(other_patient)
    response = tick(patient_client, theirs, "rest", 1, HTTP_HX_REQUEST="true")
    assert response.status_code == 404 and response["HX-Refresh"] == "true"


def test_a_tick_through_htmx_after_the_plan_was_closed_reloads_the_page(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    RecoveryPlan.objects.filter(pk=plan.pk).update(status=RecoveryPlan.Status.COMPLETED)
    response = tick(patient_client, plan, "ice", 1, HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true" and "complete" not in response.content.decode()
    assert "Your recovery plan is complete" in patient_client.get(TODAY_URL).content.decode()  # what the reload shows


def announced(html):
    """The messages read out at once and focused (templates/base.html)."""
    return re.findall(r'<div class="alert[^"]*" role="alert" tabindex="-1" data-focus-on-load>(.*?)</div>', html)


def test_a_tick_refused_for_a_stale_security_token_says_after_the_reload_that_it_was_not_saved(patient):
    """Signed in again in another tab: the page's token is stale, the tick a 403. The reload used to show the day
    from its top without a word, as if the tap had worked."""
    plan = make_plan(patient, days_since_race=1)
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(patient)
    response = tick(phone, plan, "ice", 1, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN="a token from before")
    assert response.status_code == 403 and response["HX-Refresh"] == "true"
    assert announced(phone.get(TODAY_URL).content.decode()) == [NOT_SAVED]
    assert not Completion.objects.exists()


def test_a_tick_through_htmx_that_is_answered_with_a_server_error_says_it_may_not_be_saved(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    with mock.patch("recovery.views.today.completion_set", side_effect=RuntimeError("a bug")):
        patient_client.raise_request_exception = False
        response = tick(patient_client, plan, "ice", 1, HTTP_HX_REQUEST="true")
    assert response.status_code == 500 and response["HX-Refresh"] == "true"
    assert announced(patient_client.get(TODAY_URL).content.decode()) == [MAYBE_NOT_SAVED]


def test_no_word_of_a_tick_that_worked_nor_twice_of_one_sent_signed_out_nor_without_javascript(
    client, patient, other_patient
):
    plan = make_plan(patient, days_since_race=1)
    tick(client, plan, "ice", 1, HTTP_HX_REQUEST="true")  # signed out: its own words on the login page
    login_page = client.get(f"/accounts/login/?next={TODAY_URL}").content.decode()
    assert announced(login_page) == [UNSAVED_POST]
    client.force_login(patient)
    tick(client, plan, "ice", 1, HTTP_HX_REQUEST="true")
    assert announced(client.get(TODAY_URL).content.decode()) == []
    assert tick(client, make_plan(other_patient), "rest", 1).status_code == 404  # no reload: the 404 page says it
    assert announced(client.get(TODAY_URL).content.decode()) == []


def test_a_tick_through_htmx_that_works_swaps_its_row_without_a_reload(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    response = tick(patient_client, plan, "ice", 1, HTTP_HX_REQUEST="true")
    assert (
        response.status_code == 200 and "HX-Refresh" not in response and 'data-task="ice"' in response.content.decode()
    )


def _history(plan, days):
    """``days`` days of ticks and check-ins before today, as a long-running plan would have."""
    today = clinic_today()
    keys = list(plan.steps.values_list("key", flat=True))
    Completion.objects.bulk_create(
        Completion(plan=plan, step_key=key, date=today - datetime.timedelta(days=back), count=1)
        for back in range(1, days + 1)
        for key in keys
    )
    for back in range(1, days + 1):
        CheckInFactory(plan=plan, date=today - datetime.timedelta(days=back), pain=2)


def _extra_steps(plan, count):
    template = plan.steps.get(key="rest")
    PlanStep.objects.bulk_create(
        PlanStep(
            plan=plan,
            key=f"extra-{n}",
            tip_id=template.tip_id,
            label=f"Extra {n}",
            instruction="Extra",
            position=100 + n,
            first_day=0,
        )
        for n in range(count)
    )


@pytest.mark.parametrize(("history_days", "extra_steps"), [(1, 0), (365, 15)])
def test_today_and_a_tick_use_a_fixed_number_of_queries(
    database_only, client, django_assert_num_queries, history_days, extra_steps
):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=365)
    _extra_steps(plan, extra_steps)
    _history(plan, history_days)
    assert plan.steps.count() in (15, 30)
    client.force_login(patient)
    SafetyThresholds.current()  # the clinic's record exists (the admin's first look creates it otherwise)
    # Expect 6 queries: session, user, the open plan (joined to the Patient group: no separate groups query), then
    # the plan's facts: steps (with tips), phases, and the week's ticks, days off and pain scores with the latest
    # score before it and the clinic's stop level (one query). (With Redis the steps and phases come from the
    # content cache: tests/test_cache.py.)
    with django_assert_num_queries(6):
        client.get(TODAY_URL)
    # A tick: session, user, plan (with the role), the plan's steps (the 404 check), savepoint, facts (3 as above),
    # insert (the count the page showed is checked against the facts, and the write made on that count only, in the
    # same statement), last-activity update, release savepoint. The row sent back with htmx reuses those facts.
    with django_assert_num_queries(12):
        tick(client, plan, "stretch", 1, shown=0, HTTP_HX_REQUEST="true")
    # The day's next tick: the plan already shows activity today, so it is not written again.
    with django_assert_num_queries(11):
        tick(client, plan, "cross-train", 1, shown=0, HTTP_HX_REQUEST="true")
    # "Undo one": the delete is made on the count read (0 rows if another device changed it since).
    with django_assert_num_queries(11):
        tick(client, plan, "cross-train", 0, shown=1, HTTP_HX_REQUEST="true")
    # A page sent without the count it showed (from before it was sent): the same, with the plain upsert.
    with django_assert_num_queries(11):
        tick(client, plan, "cross-train", 1, HTTP_HX_REQUEST="true")
    plan.refresh_from_db()
    assert plan.last_activity_on == clinic_today()


def task_row(response, key):
    html = response.content.decode()
    return html[html.index(f'data-task="{key}"') :].split("</li>")[0]


def test_the_check_in_task_sends_the_patient_to_the_check_in(patient_client, patient):
    make_plan(patient, days_since_race=1)
    row = task_row(patient_client.get(TODAY_URL), "check-in")
    assert reverse("recovery:check_in") in row and ">Do today's check-in</a>" in row and 'name="count"' not in row


def test_once_checked_in_the_check_in_task_offers_the_check_in_again_not_an_undo(patient_client, patient):
    plan = make_plan(patient, days_since_race=1)
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 2}, today=clinic_today())
    page = patient_client.get(TODAY_URL)
    assert task_attrs(page, "check-in")["data-complete"] == "true"
    row = task_row(page, "check-in")
    assert "See or change today's check-in" in row and reverse("recovery:check_in") in row
    assert "Undo one" not in row and 'name="count"' not in row


@pytest.mark.parametrize("htmx", [False, True])
def test_the_check_in_task_cannot_be_ticked_or_undone_by_hand(patient_client, patient, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    plan = make_plan(patient, days_since_race=1)
    response = tick(patient_client, plan, "check-in", 1, **headers)
    page = response if htmx else patient_client.get(response["Location"])
    assert "ticks itself off when you save today&#x27;s check-in" in page.content.decode()
    assert not Completion.objects.filter(plan=plan, step_key="check-in").exists()
    # Checked in: the task is done, and stays done whatever is posted.
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 2}, today=clinic_today())
    tick(patient_client, plan, "check-in", 0, **headers)
    assert Completion.objects.get(plan=plan, step_key="check-in").count == 1


def test_a_missed_check_in_on_an_earlier_day_says_it_cannot_be_added_later(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    two_days_ago = clinic_today() - datetime.timedelta(days=2)
    CheckInFactory(plan=plan, date=two_days_ago, pain=2)  # saved on its day, with the tick it gave then
    Completion.objects.create(plan=plan, step_key="check-in", date=two_days_ago, count=1)
    check_in_save(plan=plan, date=clinic_today(), data={"pain": 2}, today=clinic_today())
    missed = task_row(patient_client.get(f"{TODAY_URL}?back=1"), "check-in")
    assert "No check-in that day" in missed and "can't be added later" in missed
    assert "Do today&#x27;s check-in" not in missed  # the step's instruction is for today's row
    assert reverse("recovery:check_in") not in missed  # no button leading to today's check-in instead
    # A day with its check-in just shows it done.
    done = task_row(patient_client.get(f"{TODAY_URL}?back=2"), "check-in")
    assert 'data-done="1"' in done and "No check-in that day" not in done
    assert reverse("recovery:check_in") not in done


def test_a_tick_on_a_task_locked_since_can_still_be_undone(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, pain=2, date=clinic_today() - datetime.timedelta(days=1))
    tick(patient_client, plan, "stretch", 1)
    CheckInFactory(plan=plan, pain=7)  # later that day the hip flares up
    html = patient_client.get(TODAY_URL).content.decode()
    row = html[html.index('data-task="stretch"') :].split("</li>")[0]
    assert "On hold because of your pain score" in row and 'name="count" value="0"' in row
    tick(patient_client, plan, "stretch", 0)
    assert not Completion.objects.filter(plan=plan, step_key="stretch").exists()


def test_an_earlier_days_page_speaks_of_that_day_not_today(patient_client, patient):
    plan = make_plan(patient, days_since_race=10)  # the 3-a-week exercises have started
    CheckInFactory(plan=plan, date=clinic_today() - datetime.timedelta(days=2), pain=2)
    yesterday = patient_client.get(f"{TODAY_URL}?back=1").content.decode()
    assert "Weren't well enough yesterday?" in yesterday and "Not well enough today?" not in yesterday
    assert "Not done that day · this week" in task_row(patient_client.get(f"{TODAY_URL}?back=1"), "cross-train")
    today = patient_client.get(TODAY_URL).content.decode()
    assert "Not well enough today?" in today and "Not done today · this week" in today


def test_a_new_patient_is_told_to_start_with_the_check_in_that_opens_the_locked_tasks(patient_client, patient):
    make_plan(patient, days_since_race=5)  # stretches wait for a first pain score
    html = patient_client.get(TODAY_URL).content.decode()
    start = html[html.index("data-start-here") : html.index("</p>", html.index("data-start-here"))]
    locked = html.count('data-locked="true"')
    assert f"today's check-in opens {locked} of these tasks." in unescape(start)  # "1 of these tasks", not "task"
    assert reverse("recovery:check_in") in start
    check_in_save(plan=patient.plans.get(), date=clinic_today(), data={"pain": 2}, today=clinic_today())
    assert "data-start-here" not in patient_client.get(TODAY_URL).content.decode()  # said once it is needed only


def test_on_the_last_lone_day_of_early_strength_work_the_weeks_three_sessions_count(patient_client, patient):
    # Clamshells and hip bridges run days 7 to 14, three times a week: one week of eight days, so today (day 14)
    # reads the sessions of days 7, 9 and 11 and asks for no fourth.
    plan = make_plan(patient, days_since_race=14, enrolled_days_ago=14)
    for day in range(7, 15):
        CheckInFactory(plan=plan, date=plan.race_date + datetime.timedelta(days=day), pain=1)
    for day in (7, 9, 11):
        Completion.objects.create(
            plan=plan, step_key="strength-early", date=plan.race_date + datetime.timedelta(days=day), count=1
        )
    response = patient_client.get("/today/")
    assert row_count_words(response, "strength-early") == "This week's 3 sessions done: nothing more needed today"
    assert task_attrs(response, "strength-early")["data-complete"] == "true"


def test_a_weekly_task_says_when_its_week_ends_and_nothing_when_on_hold(patient_client, patient):
    plan = make_plan(patient, days_since_race=9, enrolled_days_ago=9)
    CheckInFactory(plan=plan, pain=1)
    # Cross-training, three times a week from day 7: its week is days 7 to 13, which ends in four days.
    week_ends = clinic_today() + datetime.timedelta(days=4)
    assert row_count_words(patient_client.get(TODAY_URL), "cross-train") == (
        f"Not done today · this week 0 of 3 sessions, until {week_ends:%A}"
    )
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    assert row_count_words(patient_client.get(TODAY_URL), "cross-train") == "No sessions this week"  # not "0 of 0"


def test_a_day_already_done_offers_no_day_off(patient_client, patient):
    # Taking a finished day out of the score would only lower it ("it won't break your progress").
    plan = make_plan(patient, days_since_race=10, enrolled_days_ago=10)
    yesterday = clinic_today() - datetime.timedelta(days=1)
    assert "Weren't well enough yesterday?" in patient_client.get(f"{TODAY_URL}?back=1").text
    CheckInFactory(plan=plan, date=yesterday, pain=1)
    for task in patient_client.get(f"{TODAY_URL}?back=1").context["open_tasks"]:
        if not task.is_check_in and not task.complete:
            Completion.objects.create(plan=plan, step_key=task.key, date=yesterday, count=task.target)
    Completion.objects.get_or_create(plan=plan, step_key="check-in", date=yesterday, defaults={"count": 1})
    page = patient_client.get(f"{TODAY_URL}?back=1")
    assert page.context["all_done"] and "Weren't well enough yesterday?" not in page.text

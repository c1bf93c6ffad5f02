"""Pages left open: a check-in or a Today page from before midnight, two devices showing different counts, a task
the clinic changed since the page was opened. Each sends what the page showed, and nothing is written on a day, or
from a count, the patient no longer sees."""

import datetime
import re
import zoneinfo
from html import unescape

import pytest
import time_machine
from django.test import Client

from recovery import care, services
from recovery.care import plan_step_change
from recovery.clock import clinic_today
from recovery.models import Alert, CheckIn, Completion, ExcusedDay
from tests.factories import ClinicianFactory, make_plan
from tests.test_today import task_attrs, task_row

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
SATURDAY = datetime.date(2027, 3, 27)
SUNDAY = SATURDAY + datetime.timedelta(days=1)
LATE_SATURDAY = datetime.datetime(2027, 3, 27, 23, 59, 30, tzinfo=LONDON)
JUST_AFTER_MIDNIGHT = datetime.datetime(2027, 3, 28, 0, 0, 27, tzinfo=LONDON)
SUNDAY_MORNING = datetime.datetime(2027, 3, 28, 10, 0, tzinfo=LONDON)
HTMX = {"HTTP_HX_REQUEST": "true"}


def form_with(html, button):
    """(address, fields) of the form holding the button with the words ``button``, as the browser sends it."""
    words = html.index(button)
    form = html[html.rindex("<form", 0, words) : html.index("</form>", words)]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    pressed = form[form.rindex("<button", 0, form.index(button)) :]
    named = re.match(r'<button[^>]*name="(\w+)" value="(\w+)"', pressed)
    if named:
        fields[named.group(1)] = named.group(2)
    return re.search(r'action="([^"]+)"', form).group(1), fields


def send(client, form, **headers):
    address, fields = form
    return client.post(address, fields, **headers)


def today_page(client):
    return unescape(client.get("/today/").content.decode())


@pytest.fixture
def saturday_plan(patient):
    with time_machine.travel(LATE_SATURDAY, tick=False):
        return make_plan(patient, days_since_race=5)  # rest, stretching and the like: once a day


@pytest.fixture
def saturday_client(patient, saturday_plan):
    """Signed in late on Saturday (a session from the day the suite runs would have run out by then)."""
    client = Client()
    with time_machine.travel(LATE_SATURDAY, tick=False):
        client.force_login(patient)
    return client


# -- A check-in started before midnight and sent after it ------------------------------------------------------------


def test_a_check_in_opened_on_saturday_and_sent_after_midnight_is_not_filed_under_sunday(saturday_client):
    with time_machine.travel(LATE_SATURDAY, tick=False):
        page = saturday_client.get("/check-in/").content.decode()
        assert "Saturday 27 March. One check-in a day: you can change it until midnight." in page
        assert '<input type="hidden" name="date" value="2027-03-27">' in page  # the day the page is for
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        response = saturday_client.post("/check-in/", {"date": "2027-03-27", "pain": "2", "swelling": "on"})
    assert response.status_code == 200
    assert not CheckIn.objects.exists()  # neither Saturday's (over) nor Sunday's unseen
    html = unescape(response.content.decode())
    notice = html[html.index("data-day-over") :].split("</div>")[0]
    assert "Not saved: these answers were for Saturday 27 March, and that day is over." in notice
    assert "if they are right for today, Sunday 28 March, save them" in notice
    assert "call 999 in an emergency" in notice
    # The answers are still there, and the page is now Sunday's: one press saves them for Sunday.
    assert re.search(r'<input[^>]*value="2"[^>]*checked', html)
    assert re.search(r'<input[^>]*name="swelling"[^>]*checked', html)
    assert '<input type="hidden" name="date" value="2027-03-28">' in html
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        saved = saturday_client.post("/check-in/", {"date": "2027-03-28", "pain": "2", "swelling": "on"})
    assert saved.status_code == 302
    assert list(CheckIn.objects.values_list("date", "pain", "swelling")) == [(SUNDAY, 2, True)]


def test_a_warning_sign_sent_from_a_page_of_a_day_that_is_over_reaches_the_clinic_but_is_not_saved(
    saturday_client, django_capture_on_commit_callbacks, mailoutbox
):
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = saturday_client.post("/check-in/", {"date": "2027-03-27", "pain": "8", "night_pain": "on"})
    assert not CheckIn.objects.exists()
    # Not saved as a check-in, but the clinic hears of it now, whether or not the patient sends it again.
    alerts = Alert.objects.order_by("-severity")
    assert [(alert.kind, alert.date) for alert in alerts] == [
        (Alert.Kind.RED_FLAG, SUNDAY),
        (Alert.Kind.HIGH_PAIN, SUNDAY),
    ]
    assert "Sent after midnight from a check-in page of Saturday 27 Mar; not saved as a check-in." in alerts[0].reason
    assert Alert.objects.get(kind=Alert.Kind.RED_FLAG).reason.count("They were told") == 1
    assert len(mailoutbox) == 1
    html = unescape(response.content.decode())
    assert "data-day-over" in html and "If you have a warning sign, don't wait: call 999" in html
    assert "What you reported has been sent to the clinic: read what to do below." in html
    # The stop screen for what was just reported, as a saved check-in's: its advice, not only "call 999".
    assert 'data-alert role="alert"' in html and "Keep your weight off the leg" in html
    assert re.search(r'<input[^>]*name="night_pain"[^>]*checked', html)  # ready to save for today at once

    # Saved for today after all: the same alerts as they were, not new ones, nor "changed by the patient".
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        saturday_client.post("/check-in/", {"date": "2027-03-28", "pain": "8", "night_pain": "on"})
    assert Alert.objects.count() == 2 and CheckIn.objects.get().date == SUNDAY
    assert not any("Changed by the patient" in alert.reason for alert in Alert.objects.all())
    assert len(mailoutbox) == 1


def test_a_calm_check_in_sent_from_a_page_of_a_day_that_is_over_raises_nothing(saturday_client):
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        saturday_client.post("/check-in/", {"date": "2027-03-27", "pain": "2"})
    assert not Alert.objects.exists() and not CheckIn.objects.exists()


def test_a_check_in_sent_on_the_day_its_page_was_for_is_saved_as_before(saturday_client):
    with time_machine.travel(LATE_SATURDAY, tick=False):
        response = saturday_client.post("/check-in/", {"date": "2027-03-27", "pain": "3"})
    assert response.status_code == 302
    assert list(CheckIn.objects.values_list("date", flat=True)) == [SATURDAY]


def test_a_check_in_for_a_day_not_yet_come_or_not_a_day_at_all_is_refused_plainly(patient_client, plan):
    tomorrow = (clinic_today() + datetime.timedelta(days=1)).isoformat()
    html = unescape(patient_client.post("/check-in/", {"date": tomorrow, "pain": "3"}).content.decode())
    assert "You can only fill in today's check-in." in html
    html = unescape(patient_client.post("/check-in/", {"date": "27/03", "pain": "3"}).content.decode())
    assert "We couldn't tell which day these answers were for. Nothing was saved" in html
    assert not CheckIn.objects.exists()


# -- A Today page left open overnight --------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_a_tick_on_todays_page_left_open_overnight_ticks_nothing_and_brings_the_new_day(saturday_client, htmx):
    with time_machine.travel(LATE_SATURDAY, tick=False):
        page = saturday_client.get("/today/").content.decode()
        assert '<h1 class="h2 mb-1">Today</h1>' in page
    tap = form_with(task_row_html(page, "rest"), "Mark as done")
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        response = send(saturday_client, tap, **(HTMX if htmx else {}))
        if htmx:  # a new load of /today/ from its top (a reload kept the old scroll, far below the message)
            assert response.status_code == 200 and response["HX-Redirect"] == "/today/" and response.content == b""
        else:
            assert response.status_code == 302 and response["Location"] == "/today/"
        assert not Completion.objects.exists()  # not Saturday's, not Sunday's
        html = today_page(saturday_client)
    message = re.search(r'<div class="alert[^"]*"([^>]*)>It\'s a new day: here is today\'s plan. Nothing was', html)
    assert message and "data-focus-on-load" in message[1] and 'role="alert"' in message[1]  # read out, focused
    polite = html[html.index('role="status" aria-live="polite"') :].split("</div>")[0]
    assert "It's a new day" not in polite  # not read out a second time by the polite region around the others
    assert "If you did it before midnight, tick it under “Yesterday”." in html
    assert "Day 6 after your race" in html


def test_a_tick_on_yesterdays_page_is_still_for_yesterday(saturday_client):
    with time_machine.travel(SUNDAY_MORNING, tick=False):
        page = saturday_client.get("/today/?back=1").content.decode()
        assert "Yesterday" in page and "Saturday 27 March" in page
        response = send(saturday_client, form_with(task_row_html(page, "rest"), "Mark as done"), **HTMX)
    assert response.status_code == 200 and "HX-Refresh" not in response
    assert list(Completion.objects.values_list("step_key", "date", "count")) == [("rest", SATURDAY, 1)]


def test_numbness_sent_from_todays_page_left_open_overnight_reaches_the_clinic_for_today(patient):
    with time_machine.travel(LATE_SATURDAY, tick=False):
        make_plan(patient, days_since_race=1)  # compression is worn on day 1
        client = Client()
        client.force_login(patient)
        page = client.get("/today/").content.decode()
    tap = form_with(task_row_html(page, "compression"), "I feel tingling or numbness")
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        send(client, tap, **HTMX)
        html = today_page(client)
    assert Alert.objects.get(kind=Alert.Kind.COMPRESSION_NUMBNESS).date == SUNDAY  # news about now, never dropped
    assert "Take your compression off now." in html and "Nothing was ticked." in html
    assert not Completion.objects.exists()


def test_a_day_off_asked_for_on_todays_page_left_open_overnight_is_not_given_to_yesterday(
    saturday_client,
):
    with time_machine.travel(LATE_SATURDAY, tick=False):
        page = saturday_client.get("/today/").content.decode()
    tap = form_with(page, "Mark today as a day off")
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        response = send(saturday_client, tap)
        assert response["Location"] == "/today/"
        html = today_page(saturday_client)
    assert not ExcusedDay.objects.exists()
    assert "It's a new day: here is today's plan. Nothing was changed." in html


def task_row_html(page, key):
    return page[page.index(f'data-task="{key}"') :].split("</li>")[0]


# -- Two devices -----------------------------------------------------------------------------------------------------


@pytest.fixture
def ice_plan(patient):
    return make_plan(patient, days_since_race=1)  # ice three times a day


def signed_in(patient):
    """Another browser of the same patient's."""
    client = Client()
    client.force_login(patient)
    return client


@pytest.fixture
def phone(patient):
    return signed_in(patient)


@pytest.fixture
def laptop(patient):
    return signed_in(patient)


def ice_tap(client, button):
    return form_with(task_row_html(client.get("/today/").content.decode(), "ice"), button)


def ice_count(plan):
    return Completion.objects.filter(plan=plan, step_key="ice").values_list("count", flat=True).first() or 0


def test_an_undo_from_a_page_showing_an_old_count_does_not_wipe_the_doses_ticked_since(phone, laptop, ice_plan):
    send(phone, ice_tap(phone, "Done one more (1 of 3)"))
    stale_undo = ice_tap(laptop, "Undo one")  # the laptop shows "1 of 3 done", and is left open
    send(phone, ice_tap(phone, "Done one more (2 of 3)"))
    send(phone, ice_tap(phone, "Done one more (3 of 3)"))
    response = send(laptop, stale_undo, **HTMX)
    assert ice_count(ice_plan) == 3  # all three kept
    row = unescape(task_row(response, "ice"))
    assert "This changed on another device: 3 of 3 done now. Tap again if you meant to change it." in row
    assert task_attrs(response, "ice")["data-done"] == "3"  # the row as it is now, ready for a deliberate tap
    # Tapped again, from the row it got back: what the patient now means.
    send(laptop, form_with(row, "Undo one"), **HTMX)
    assert ice_count(ice_plan) == 2


def test_a_tick_from_a_page_showing_an_old_count_is_not_written_and_says_what_it_is_now(phone, laptop, ice_plan):
    stale_tick = ice_tap(laptop, "Done one more (1 of 3)")  # the laptop shows "0 of 3 done"
    for button in ("Done one more (1 of 3)", "Done one more (2 of 3)"):
        send(phone, ice_tap(phone, button))
    response = send(laptop, stale_tick)  # without JavaScript: back to the day, with the words at the top
    assert ice_count(ice_plan) == 2
    html = unescape(laptop.get(response["Location"]).content.decode())
    label = ice_plan.steps.get(key="ice").label
    message = re.search(r'<div class="alert[^"]*"([^>]*)>([^<]*)</div>', html)
    # Named, since it is at the top of the page and not in the task's row; read out first.
    said = "This changed on another device: 2 of 3 done now. Tap again if you meant to change it."
    assert message[2] == f"{label}: {said}"
    assert "data-focus-on-load" in message[1]


def test_a_double_tap_is_harmless_and_says_nothing(patient_client, ice_plan):
    tap = ice_tap(patient_client, "Done one more (1 of 3)")
    first = send(patient_client, tap, **HTMX)
    second = send(patient_client, tap, **HTMX)  # the same form again, before the row was swapped
    assert ice_count(ice_plan) == 1
    for response in (first, second):
        row = task_row(response, "ice")
        assert task_attrs(response, "ice")["data-done"] == "1"
        assert "changed on another device" not in row and "text-danger" not in row and 'role="alert"' not in row
    # Without JavaScript too: no words at the top of the page.
    send(patient_client, tap)
    page = unescape(patient_client.get("/today/").content.decode())
    assert 'class="messages"' not in page and ice_count(ice_plan) == 1


def test_a_dose_ticked_on_a_stale_page_at_the_count_the_phone_reached_is_not_lost_unseen(phone, laptop, ice_plan):
    """The laptop shows 0 of 3 and asks for 1, as the phone's second tap of a double tap would: the same count, but
    from another page, so it is the second session of the day, not a repeat. Said, not swallowed."""
    stale_tick = ice_tap(laptop, "Done one more (1 of 3)")
    send(phone, ice_tap(phone, "Done one more (1 of 3)"))
    response = send(laptop, stale_tick, **HTMX)
    assert ice_count(ice_plan) == 1
    row = unescape(task_row(response, "ice"))
    assert "This changed on another device: 1 of 3 done now. Tap again if you meant to change it." in row
    send(laptop, form_with(row, "Done one more (2 of 3)"), **HTMX)  # tapped again, deliberately
    assert ice_count(ice_plan) == 2


def test_an_undo_on_a_stale_page_of_a_dose_already_undone_elsewhere_is_quietly_so(phone, laptop, ice_plan):
    send(phone, ice_tap(phone, "Done one more (1 of 3)"))
    stale_undo = ice_tap(laptop, "Undo one")  # the laptop shows 1 of 3
    send(phone, ice_tap(phone, "Undo one"))
    response = send(laptop, stale_undo, **HTMX)
    assert ice_count(ice_plan) == 0  # what both asked for: nothing to say
    assert "changed on another device" not in task_row(response, "ice")


def test_a_count_changed_between_reading_it_and_writing_it_is_not_overwritten(patient_client, ice_plan, monkeypatch):
    """Another request changes the count after this one read it: the write is conditional on the count it read, in
    the one statement (on PostgreSQL, tests/test_concurrency.py runs it with real concurrent requests)."""
    send(patient_client, ice_tap(patient_client, "Done one more (1 of 3)"))
    undo = ice_tap(patient_client, "Undo one")
    read = services.facts_for_plan

    def read_then_the_phone_ticks(plan, first, last):
        facts = read(plan, first, last)
        Completion.objects.filter(plan=plan, step_key="ice").update(count=3)  # the phone, at that very moment
        monkeypatch.setattr(services, "facts_for_plan", read)
        return facts

    monkeypatch.setattr(services, "facts_for_plan", read_then_the_phone_ticks)
    response = send(patient_client, undo, **HTMX)
    assert "This changed on another device: 3 of 3 done now." in unescape(task_row(response, "ice"))
    # Not deleted. (The "phone's" write shared this request's transaction here, so the refusal took it back too:
    # the row is as it was before both. An undo written regardless would have left no row at all.)
    assert ice_count(ice_plan) == 1


# -- A task the clinic changed since the page was opened -------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_done_one_more_after_the_clinic_made_the_task_once_a_day_says_the_clinic_changed_it(
    patient_client, ice_plan, htmx
):
    send(patient_client, ice_tap(patient_client, "Done one more (1 of 3)"))
    stale = ice_tap(patient_client, "Done one more (2 of 3)")  # the page shows "1 of 3 done"
    plan_step_change(plan=ice_plan, key="ice", from_date=clinic_today(), today=clinic_today(), doses_per_day=1)
    response = send(patient_client, stale, **(HTMX if htmx else {}))
    html = unescape((response if htmx else patient_client.get(response["Location"])).content.decode())
    assert "The clinic has changed this task since this page was opened: it is now once a day." in html
    assert "Nothing was ticked." in html and "Choose a number" not in html
    row = task_row_html(html, "ice")
    assert 'data-target="1"' in row and 'data-done="1"' in row and "Done" in row  # the task as it is now
    assert ice_count(ice_plan) == 1


def test_the_tick_sends_what_the_page_showed(patient_client, ice_plan):
    _address, fields = ice_tap(patient_client, "Done one more (1 of 3)")
    assert {name: fields[name] for name in ("date", "back", "shown", "count")} == {
        "date": clinic_today().isoformat(),
        "back": "0",
        "shown": "0",
        "count": "1",
    }


def test_the_note_sent_with_a_warning_sign_after_midnight_comes_with_the_alert_and_counts_as_heard_from(
    saturday_client, saturday_plan
):
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        saturday_client.post(
            "/check-in/", {"date": "2027-03-27", "pain": "3", "fall_or_knock": "on", "note": "slipped on ice"}
        )
    alert = Alert.objects.get()
    assert alert.reason.endswith("not saved as a check-in. Their note: “slipped on ice”)")
    saturday_plan.refresh_from_db()
    assert saturday_plan.last_activity_on == SUNDAY  # not called about being quiet at the morning's sweep


def test_a_new_warning_sign_from_a_second_page_sent_after_midnight_reopens_the_acknowledged_alert(
    saturday_client, django_capture_on_commit_callbacks, mailoutbox
):
    """No check-in is saved from such pages, so nothing says whether the second is better or worse: it is news."""
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        saturday_client.post("/check-in/", {"date": "2027-03-27", "pain": "3", "night_pain": "on"})
        assert care.alert_acknowledge(alert_ids=[Alert.objects.get().pk], by=ClinicianFactory(), note="Called") == 1
    later = JUST_AFTER_MIDNIGHT + datetime.timedelta(minutes=5)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        saturday_client.post(
            "/check-in/", {"date": "2027-03-27", "pain": "3", "night_pain": "on", "bladder_or_bowel_change": "on"}
        )
    alert = Alert.objects.get()
    assert alert.acknowledged_at is None and "Re-opened at 00:05" in alert.reason
    assert len(mailoutbox) == 2 and "a patient alert re-opened (urgent)" in mailoutbox[1].subject


def test_a_tampered_page_token_is_taken_as_another_pages_not_an_error(patient_client, ice_plan):
    tap = ice_tap(patient_client, "Done one more (1 of 3)")
    address, fields = tap
    response = patient_client.post(address, fields | {"tap": "x" * 500}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and ice_count(ice_plan) == 1
    assert "at most" not in response.content.decode()

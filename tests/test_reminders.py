"""Reminders the patient controls: the rules of which slot is due when, the settings page, the unsubscribe link,
what the sweep queues, and the data download. The worker itself is tested in tests/test_worker.py."""

import datetime
import email
import email.policy
import json
import re
import smtplib
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from jobs.sweep import sweep
from recovery.care import plan_set_status
from recovery.clock import clinic_today
from recovery.models import PlanStep
from recovery.services import day_excuse
from reminders import delivery as delivery_module
from reminders.delivery import KEEP_DELIVERIES, deliveries_prune, reminder_deliver, reminders_queue_due
from reminders.models import ReminderDelivery, ReminderSettings
from reminders.slots import LATE_LIMIT, Slot, Times, any_time_due, candidate_dates, due_slots, moment, slots_on
from reminders.tokens import unsubscribe_token, unsubscribe_url, user_for_token
from tests.factories import CheckInFactory, CompletionFactory, PatientFactory, make_plan
from tests.test_today import announced

LONDON = ZoneInfo("Europe/London")
DAY = datetime.date(2026, 6, 10)  # British Summer Time: 08:00 in London is 07:00 UTC
T = datetime.time
TIMES = Times(ice=(T(8), T(13), T(18)), daily=T(9), evening=T(20))


def at(hour, minute=0, day=DAY, tz=LONDON):
    return datetime.datetime.combine(day, T(hour, minute), tzinfo=tz)


# The rules, without the database


def test_an_ice_day_has_one_slot_per_dose_and_the_evening_nudge():
    assert slots_on(TIMES, ice_doses=3) == [
        (Slot.ICE_1, T(8)),
        (Slot.ICE_2, T(13)),
        (Slot.ICE_3, T(18)),
        (Slot.EVENING, T(20)),
    ]


def test_a_plan_tailored_to_two_ice_doses_gets_two_ice_reminders():
    assert [slot for slot, _ in slots_on(TIMES, ice_doses=2)] == [Slot.ICE_1, Slot.ICE_2, Slot.EVENING]


def test_other_days_have_the_daily_reminder_and_no_evening_nudge_when_it_is_off():
    assert slots_on(Times(ice=TIMES.ice, daily=T(9), evening=None), ice_doses=0) == [(Slot.DAILY, T(9))]


def test_a_slot_is_due_from_its_time_for_an_hour():
    due = lambda now: due_slots(TIMES, now=now, tz=LONDON, ice_doses_on=lambda date: 3)  # noqa: E731
    assert due(at(7, 59)) == []
    [slot] = due(at(8, 0))
    assert (slot.slot, slot.date, slot.at) == (
        Slot.ICE_1,
        DAY,
        datetime.datetime(2026, 6, 10, 7, 0, tzinfo=datetime.UTC),
    )
    assert [d.slot for d in due(at(8, 0) + LATE_LIMIT - datetime.timedelta(seconds=1))] == [Slot.ICE_1]
    assert due(at(8, 0) + LATE_LIMIT) == []


def test_a_slot_just_before_midnight_is_still_due_just_after_it():
    late = Times(ice=TIMES.ice, daily=T(9), evening=T(23, 50))
    [slot] = due_slots(late, now=at(0, 10, day=DAY + datetime.timedelta(days=1)), tz=LONDON, ice_doses_on=lambda d: 0)
    assert (slot.slot, slot.date) == (Slot.EVENING, DAY)


def test_nothing_is_due_on_a_day_the_plan_has_nothing():
    assert due_slots(TIMES, now=at(8, 5), tz=LONDON, ice_doses_on=lambda date: None) == []


def test_times_are_the_clinics_wall_clock_across_the_change_to_summer_time():
    spring = datetime.date(2026, 3, 29)  # the clocks go from 01:00 to 02:00 GMT
    assert moment(spring, T(8), LONDON) == datetime.datetime(2026, 3, 29, 7, 0, tzinfo=datetime.UTC)
    assert moment(spring - datetime.timedelta(days=1), T(8), LONDON).hour == 8
    # 01:30 does not exist that day: it falls at 02:30 BST, never on another day.
    assert moment(spring, T(1, 30), LONDON) == datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC)


def test_candidate_dates_are_yesterday_and_today_in_the_clinics_zone():
    # 23:30 UTC on 9 June is already 10 June in London.
    now = datetime.datetime(2026, 6, 9, 23, 30, tzinfo=datetime.UTC)
    assert candidate_dates(now, LONDON) == [DAY - datetime.timedelta(days=1), DAY]
    assert any_time_due(TIMES, now=at(8, 30), tz=LONDON)
    assert not any_time_due(TIMES, now=at(10, 30), tz=LONDON)


# The settings page


URL = "/account/reminders/"
GOOD = {
    "enabled": "on",
    "ice_time_1": "07:30",
    "ice_time_2": "12:00",
    "ice_time_3": "19:00",
    "daily_time": "08:15",
    "evening_nudge": "on",
    "evening_time": "21:00",
}


def test_the_account_page_links_to_the_reminders(patient_client):
    assert URL in patient_client.get("/account/").content.decode()


def test_the_page_says_what_the_reminders_say_after_a_check_in_that_said_stop(patient_client, plan):
    page = " ".join(patient_client.get(URL).content.decode().split())
    assert "If a check-in asks you to stop and call us, your daily and evening reminders change" in page


def test_the_privacy_notice_says_reminders_are_on_and_how_to_stop_them(client, db, settings):
    settings.CLINIC_PHONE = "+44 20 7946 0777"
    page = " ".join(client.get("/privacy/").content.decode().split())
    assert f'<a href="{URL}">your reminder settings</a>' in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "Reminders of your recovery plan, unless you turn them off: they start when you join" in text
    assert "Stop all reminders" in text
    assert "Replies to our e-mails are not read: please call us on +44 20 7946 0777." in text


def test_the_privacy_notice_says_the_clinic_is_e_mailed_the_name_with_an_alert(client, db):
    page = " ".join(client.get("/privacy/").content.decode().split())
    assert "we e-mail the clinic's duty team and your clinician. That e-mail gives your name" in page
    assert "It does not include your pain scores, your answers or your notes" in page


def test_the_page_shows_the_defaults_before_anything_is_saved(patient_client, plan):
    html = patient_client.get(URL).content.decode()
    assert 'value="08:00"' in html and 'value="13:00"' in html and 'value="18:00"' in html
    assert 'value="09:00"' in html and 'value="20:00"' in html
    assert not ReminderSettings.objects.exists()


def test_a_patient_chooses_times_and_turns_the_nudge_off(patient_client, patient):
    response = patient_client.post(URL, GOOD | {"evening_nudge": ""})
    assert response.status_code == 302
    saved = ReminderSettings.objects.get(user=patient)
    assert (saved.ice_time_1, saved.ice_time_2, saved.ice_time_3) == (T(7, 30), T(12), T(19))
    assert saved.daily_time == T(8, 15) and saved.enabled and not saved.evening_nudge
    assert "Your reminders are saved" in patient_client.get(URL).content.decode()


def test_reminders_can_be_turned_off(patient_client, patient):
    patient_client.post(URL, GOOD | {"enabled": ""})
    assert ReminderSettings.objects.get(user=patient).enabled is False


def test_saving_the_reminders_is_read_out_and_focused(patient_client, patient):
    """The page came back at its top with the words in the polite region: a screen reader heard nothing of them."""
    patient_client.post(URL, GOOD)
    assert announced(patient_client.get(URL).content.decode()) == ["Your reminders are saved."]
    patient_client.post(URL, GOOD | {"enabled": ""})
    assert announced(patient_client.get(URL).content.decode()) == [
        "Your reminders are off. You can turn them on here at any time."
    ]


@pytest.mark.parametrize("bad", ["soon", "25:00", "8", "08:00 tomorrow", ""])
def test_a_reminder_time_that_is_not_a_time_is_a_form_error(patient_client, patient, bad):
    response = patient_client.post(URL, GOOD | {"ice_time_2": bad})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a time of day" in html or "Choose a time" in html
    assert not ReminderSettings.objects.exists()


def test_ice_times_in_any_order_are_kept_in_the_order_of_the_day(patient_client, patient):
    patient_client.post(URL, GOOD | {"ice_time_1": "19:00", "ice_time_3": "07:30"})
    saved = ReminderSettings.objects.get(user=patient)
    assert (saved.ice_time_1, saved.ice_time_2, saved.ice_time_3) == (T(7, 30), T(12), T(19))


def test_two_ice_sessions_at_the_same_time_are_refused(patient_client, patient):
    response = patient_client.post(URL, GOOD | {"ice_time_2": "07:30"})
    html = response.content.decode()
    assert html.count("Choose three different times for the ice sessions.") == 1
    assert "Constraint" not in html  # not Django's technical wording beside it
    assert not ReminderSettings.objects.exists()


@pytest.mark.parametrize("late", ["00:15", "03:00", "12:00", "16:59", "23:31", "23:59"])
def test_an_evening_nudge_outside_the_evening_is_refused_in_plain_words(patient_client, patient, late):
    """At 00:15 it would say "Nothing has been logged for today yet" every night, a quarter of an hour into the day."""
    response = patient_client.post(URL, GOOD | {"evening_time": late})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a time from 17:00 to 23:30. The evening nudge comes only if nothing has been logged that day" in html
    assert html.count("Choose a time from 17:00") == 1  # under the box, not again from the model's constraint
    assert not ReminderSettings.objects.exists()


def test_the_evening_box_offers_only_the_evening(patient_client, patient):
    # A phone's time picker keeps to min and max: 00:15 is not offered to be refused after Save.
    html = patient_client.get(URL).content.decode()
    box = re.search(r'<input[^>]*name="evening_time"[^>]*>', html)[0]
    assert 'type="time"' in box and 'min="17:00"' in box and 'max="23:30"' in box


@pytest.mark.parametrize("evening", ["17:00", "20:00", "23:30"])
def test_an_evening_nudge_from_five_to_half_past_eleven_is_kept(patient_client, patient, evening):
    assert patient_client.post(URL, GOOD | {"evening_time": evening}).status_code == 302
    assert ReminderSettings.objects.get(user=patient).evening_time.strftime("%H:%M") == evening


def test_a_nudge_turned_off_keeps_whatever_time_is_in_its_box(patient_client, patient):
    assert patient_client.post(URL, GOOD | {"evening_nudge": "", "evening_time": "00:15"}).status_code == 302
    assert not ReminderSettings.objects.get(user=patient).evening_nudge


def test_an_evening_nudge_outside_the_evening_cannot_be_stored_by_any_way_in(patient):
    """The form is one way in; the rule is the model's, kept by the database."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    midnight = ReminderSettings(user=patient, evening_nudge=True, evening_time=datetime.time(0, 15))
    with pytest.raises(ValidationError, match="Choose a time from 17:00 to 23:30"):
        midnight.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        midnight.save()
    ReminderSettings.objects.create(user=patient, evening_nudge=False, evening_time=datetime.time(0, 15))  # off: kept


def test_the_evening_times_saved_before_the_window_are_moved_to_eight(patient, other_patient):
    """Patients who saved 00:15 before the form refused it got the nudge just after midnight, every night."""
    import importlib

    from django.apps import apps

    from reminders.models import EVENING_FROM, EVENING_UNTIL

    migration = importlib.import_module("reminders.migrations.0005_evening_nudge_times_into_the_evening")
    third = PatientFactory()
    # Saved before the rule (the database has it now: only a nudge turned off can still hold such a time).
    for user, time in ((patient, "00:15"), (other_patient, "16:59"), (third, "23:30")):
        ReminderSettings.objects.create(user=user, evening_nudge=False, evening_time=time)
    migration.evening_times_into_the_evening(apps, None)
    times = {row.user: row.evening_time for row in ReminderSettings.objects.all()}
    assert times == {patient: datetime.time(20), other_patient: datetime.time(20), third: datetime.time(23, 30)}
    assert migration.EVENING_FROM == EVENING_FROM and migration.EVENING_UNTIL == EVENING_UNTIL  # the same window


def test_only_patients_have_reminder_settings(client, clinician, reception):
    assert client.get(URL).status_code == 302  # to the login page
    for person in (clinician, reception):
        client.force_login(person)
        response = client.get(URL)
        assert response.status_code == 302 and "/account/reminders/" not in response["Location"]


def test_a_patient_changes_only_their_own_settings(patient_client, patient, other_patient):
    patient_client.post(URL, GOOD | {"user": other_patient.pk})
    assert list(ReminderSettings.objects.values_list("user_id", flat=True)) == [patient.pk]


# The unsubscribe link


def test_the_link_opens_a_confirmation_and_a_get_changes_nothing(client, patient):
    response = client.get(unsubscribe_url(patient).removeprefix("http://127.0.0.1:8000"))
    html = response.content.decode()
    assert response.status_code == 200 and "Stop my reminders" in html and 'method="post"' in html
    assert "a•••@example.com" in html and "alice@example.com" not in html
    assert not ReminderSettings.objects.exists()


def test_the_confirmation_post_turns_reminders_off_without_login_or_csrf_token(patient):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("reminders:unsubscribe", args=[unsubscribe_token(patient)]))
    assert response.status_code == 200 and "Your reminders are off" in response.content.decode()
    assert ReminderSettings.objects.get(user=patient).enabled is False


def test_the_one_click_post_of_rfc_8058_works_and_twice_is_harmless(patient):
    client = Client(enforce_csrf_checks=True)
    url = reverse("reminders:unsubscribe", args=[unsubscribe_token(patient)])
    for _ in range(2):
        response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
    assert ReminderSettings.objects.get(user=patient).enabled is False


def test_unsubscribing_keeps_the_chosen_times(patient_client, patient):
    patient_client.post(URL, GOOD)
    Client().post(reverse("reminders:unsubscribe", args=[unsubscribe_token(patient)]))
    saved = ReminderSettings.objects.get(user=patient)
    assert not saved.enabled and saved.ice_time_1 == T(7, 30)


def _tampered(token):
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


@pytest.mark.parametrize(
    "make_token",
    [
        _tampered,
        lambda token: "not-a-token",
        # Alice's id, signed by the portal but for something else (another salt): no good here.
        lambda token: signing.dumps(signing.loads(token, salt="reminders.unsubscribe"), salt="another.salt"),
        # A well-signed value that is no user id.
        lambda token: signing.dumps("alice", salt="reminders.unsubscribe"),
    ],
)
def test_a_tampered_link_shows_a_plain_page_and_changes_nothing(patient, make_token):
    url = reverse("reminders:unsubscribe", args=[make_token(unsubscribe_token(patient))])
    for response in (Client().get(url), Client(enforce_csrf_checks=True).post(url)):
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert not ReminderSettings.objects.exists()


def test_the_token_names_its_user_and_a_deleted_users_link_is_dead(patient, other_patient):
    assert user_for_token(unsubscribe_token(patient)) == patient
    token = unsubscribe_token(other_patient)
    other_patient.delete()
    assert user_for_token(token) is None


# What the sweep queues (tasks run at once here: the immediate backend of tests/conftest.py)


@pytest.fixture
def june(db):
    with time_machine.travel(at(0, 1), tick=False) as traveller:
        yield traveller


def sweep_at(traveller, hour, minute=0):
    traveller.move_to(at(hour, minute))
    return reminders_queue_due(now=at(hour, minute))


def test_an_ice_day_brings_three_ice_reminders_at_their_times(june, patient):
    make_plan(patient, days_since_race=1)
    assert sweep_at(june, 7, 59) == 0
    assert sweep_at(june, 8, 0) == 1
    [message] = mail.outbox
    assert message.to == ["alice@example.com"] and message.subject == "Your next plan task is due"
    assert "wrapped in a thin towel (never on bare skin)" in message.body  # as the task says: ice burns bare skin
    assert sweep_at(june, 8, 1) == 0  # already queued
    assert sweep_at(june, 13, 5) == 1 and sweep_at(june, 18, 59) == 1
    sessions = [re.search(r"your (\w+) ice session of the day", m.body).group(1) for m in mail.outbox]
    assert sessions == ["first", "second", "third"]


PREVIEW = 200  # about what an inbox list or a lock screen shows of an e-mail's text
HEALTH_WORDS = re.compile(r"stop your exercises|\b(pain|hip|injury|injured)\b", re.IGNORECASE)


def lock_screen(message):
    """What a phone shows before the e-mail is opened: the subject and the start of the text, up to the first link."""
    return message.subject + " " + message.body.split("http", 1)[0]


def test_no_reminder_puts_the_injury_on_the_lock_screen(june, patient, settings):
    # "Time for your first ice session: … on your hip" read on a locked phone tells anyone near it about the injury.
    make_plan(patient, days_since_race=2)  # ice at 08:00
    make_plan(PatientFactory(first_name="Bea"), days_since_race=5)  # the daily reminder at 09:00
    sweep_at(june, 8)
    sweep_at(june, 9)
    sweep_at(june, 20)  # the evening nudges
    ice, daily, evening, _bea_evening = mail.outbox
    assert ice.subject == "Your next plan task is due"
    assert daily.subject == "Your plan for today is ready"
    assert evening.subject == f"A gentle nudge from {settings.CLINIC_NAME}"
    for message in (ice, daily, evening):
        assert not re.search(r"\b(ice|hip|pain|injury|injured)\b", lock_screen(message), re.IGNORECASE), message.body
    # The details come after the link.
    assert "first ice session of the day" in ice.body.split("/today/", 1)[1]
    assert "your hip" in ice.body.split("/today/", 1)[1]


@pytest.mark.parametrize("site", ["http://127.0.0.1:8000", "https://recovery.apexsportsclinic.co.uk"])
def test_no_reminders_preview_in_an_inbox_list_says_anything_of_the_patients_health(june, patient, settings, site):
    """An inbox list shows the first 200 or so characters under the subject: the daily reminder's "If your pain is
    getting worse" came 80 characters in, the evening nudge's "your hip" at about 200."""
    settings.SITE_URL = site
    make_plan(patient, days_since_race=2)  # ice at 08:00
    make_plan(PatientFactory(first_name="Bo"), days_since_race=5)  # the daily reminder at 09:00
    sweep_at(june, 8)
    sweep_at(june, 9)
    sweep_at(june, 20)  # the evening nudges
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        assert not HEALTH_WORDS.search(message.body[:PREVIEW]), message.body[:PREVIEW]
    assert "If anything is getting worse, call us on" in mail.outbox[1].body


def test_every_reminder_says_replies_are_not_read_and_whom_to_call(june, patient, settings):
    settings.CLINIC_PHONE = "+44 20 7946 0999"
    make_plan(patient, days_since_race=2)
    sweep_at(june, 8)
    sweep_at(june, 20)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "Replies to this e-mail are not read: call us on +44 20 7946 0999." in message.body


def test_the_message_links_to_today_and_carries_the_unsubscribe_headers(june, patient, settings):
    settings.SITE_URL = "https://recovery.apex.test"
    make_plan(patient, days_since_race=0)
    sweep_at(june, 8)
    [message] = mail.outbox
    assert "https://recovery.apex.test/today/" in message.body
    assert "https://recovery.apex.test/account/reminders/" in message.body
    link = "https://recovery.apex.test" + reverse("reminders:unsubscribe", args=[unsubscribe_token(patient)])
    assert link in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = message.message().as_string()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw


class RecordingSMTP:
    """Stands in for ``smtplib.SMTP`` under Django's SMTP backend: keeps the bytes the backend hands the server."""

    sent = []

    def __init__(self, host, port, **params):
        pass

    def sendmail(self, from_addr, to_addrs, msg):
        self.sent.append(msg)
        return {}

    def quit(self):
        pass


def test_the_unsubscribe_header_reaches_the_mail_server_as_a_plain_link(june, patient, settings, monkeypatch):
    # Mail apps show their Unsubscribe button only for a literal <https://…> in the header. Python's e-mail
    # policies fold headers at 78 characters, and this one has no space to fold at: the header went out
    # RFC 2047-encoded ("=?utf-8?q?=3Chttps=3A//…"), so no button. Tested on what the SMTP backend sends.
    settings.SITE_URL = "https://recovery.apexsportsclinic.co.uk"
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"host": "127.0.0.1"}}
    }
    monkeypatch.setattr(smtplib, "SMTP", RecordingSMTP)
    monkeypatch.setattr(RecordingSMTP, "sent", [])
    make_plan(patient, days_since_race=0)
    sweep_at(june, 8)
    [raw] = RecordingSMTP.sent
    link = unsubscribe_url(patient)
    assert link.startswith("https://recovery.apexsportsclinic.co.uk/reminders/unsubscribe/") and len(link) > 78
    assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    assert b"=?utf-8?" not in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == f"<{link}>"
    # The line stays within RFC 5322's 998 characters, and the other headers still fold as usual.
    assert max(len(line) for line in raw.split(b"\r\n\r\n")[0].splitlines()) <= 998


def test_after_the_first_48_hours_one_daily_reminder(june, patient):
    make_plan(patient, days_since_race=3)
    assert sweep_at(june, 8, 30) == 0
    assert sweep_at(june, 9, 0) == 1
    assert mail.outbox[0].subject == "Your plan for today is ready"


def test_no_reminders_before_race_day(june, patient):
    make_plan(patient, days_since_race=-2)
    assert sweep_at(june, 9) == 0 and sweep_at(june, 20) == 0


def test_the_evening_nudge_comes_only_when_nothing_was_logged(june, patient, other_patient):
    quiet = make_plan(patient, days_since_race=5)
    busy = make_plan(other_patient, days_since_race=5)
    CompletionFactory(plan=busy, step_key="rest", date=DAY)
    assert sweep_at(june, 20) == 1
    [nudge] = mail.outbox
    assert nudge.to == [patient.email] and "gentle nudge" in nudge.subject
    assert quiet.pk != busy.pk


def test_a_check_in_also_counts_as_logged(june, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=DAY)
    assert sweep_at(june, 20) == 0


# A check-in that said stop (a warning sign, or pain at the stop level): the rule of Today's banner


YESTERDAY = DAY - datetime.timedelta(days=1)


def test_after_a_warning_sign_the_daily_reminder_asks_for_a_check_in_instead(june, patient, settings):
    # Told "keep your weight off the leg, it may be a fracture, call the clinic", the patient must not get
    # "Your plan for today is ready" the next morning.
    settings.CLINIC_PHONE = "+44 20 7946 0123"
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=YESTERDAY, pain=2, night_pain=True)
    assert sweep_at(june, 9) == 1
    [message] = mail.outbox
    assert message.subject == "Please do today's check-in"
    assert "Your plan for today is ready" not in message.body and "/today/" not in message.body
    assert settings.SITE_URL.rstrip("/") + reverse("recovery:check_in") in message.body
    assert "If we haven't spoken since your last one, please call us on +44 20 7946 0123." in message.body
    assert ReminderDelivery.objects.get().status == "sent"


@pytest.mark.parametrize("site", ["http://127.0.0.1:8000", "https://recovery.apexsportsclinic.co.uk"])
def test_the_check_in_reminders_preview_says_nothing_of_the_patients_health(june, patient, settings, site):
    """ "Your last check-in asked you to stop your exercises and call us" came about 130 characters in, and
    inbox lists show it under the subject."""
    settings.SITE_URL = site
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=YESTERDAY, pain=2, night_pain=True)
    sweep_at(june, 9)
    sweep_at(june, 20)
    assert [message.subject for message in mail.outbox] == ["Please do today's check-in"] * 2
    for message in mail.outbox:
        preview = message.body[:PREVIEW]
        assert "Please do today's check-in" in preview and "please call us on" in preview
        assert not HEALTH_WORDS.search(preview), preview
        assert "stop your exercises" not in message.body


def test_after_a_warning_sign_the_evening_nudge_is_calm_too(june, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=YESTERDAY, pain=2, night_pain=True)
    sweep_at(june, 20)
    [nudge] = mail.outbox
    assert nudge.subject == "Please do today's check-in"
    assert "No pressure" not in nudge.body and "ticking it off" not in nudge.body


def test_pain_at_the_stop_level_also_brings_the_calm_reminder(june, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=YESTERDAY - datetime.timedelta(days=3), pain=8)  # before the days loaded
    sweep_at(june, 9)
    assert mail.outbox[0].subject == "Please do today's check-in"


def test_a_check_in_without_a_warning_brings_the_usual_reminders_back(june, patient):
    plan = make_plan(patient, days_since_race=5)
    CheckInFactory(plan=plan, date=YESTERDAY - datetime.timedelta(days=1), pain=2, night_pain=True)
    CheckInFactory(plan=plan, date=YESTERDAY, pain=2)
    sweep_at(june, 9)
    assert mail.outbox[0].subject == "Your plan for today is ready"


def test_no_daily_reminder_after_that_mornings_check_in_said_stop(june, patient, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}  # queued, not run
    plan = make_plan(patient, days_since_race=5)
    assert sweep_at(june, 9) == 1
    CheckInFactory(plan=plan, date=DAY, pain=2, cannot_bear_weight=True)  # checked in before it went out
    delivery = ReminderDelivery.objects.get()
    assert reminder_deliver(delivery_id=delivery.pk, worker_id="w") == "skipped"
    delivery.refresh_from_db()
    assert delivery.note == "That day's check-in asked the patient to stop and call the clinic." and not mail.outbox


def test_ice_reminders_go_on_after_a_warning_sign(june, patient):
    # The ice step has no gate: Today keeps it open under the warning, and so do its reminders.
    plan = make_plan(patient, days_since_race=1)
    CheckInFactory(plan=plan, date=YESTERDAY, pain=3, night_pain=True)
    sweep_at(june, 8)
    [message] = mail.outbox
    assert message.subject == "Your next plan task is due" and "first ice session" in message.body


def test_an_ice_step_that_a_warning_holds_on_today_gets_no_reminder(june, patient):
    plan = make_plan(patient, days_since_race=1)
    for step in PlanStep.objects.filter(plan=plan, key="ice"):
        step.gate, step.gate_pain_max = "pain", 5  # tailored by a clinician: ice only below 5/10
        step.save()
    CheckInFactory(plan=plan, date=YESTERDAY, pain=3, night_pain=True)
    sweep_at(june, 8)
    assert not mail.outbox
    assert ReminderDelivery.objects.get().note == "The ice step was on hold that day."


def test_something_logged_between_queueing_and_sending_skips_the_nudge(june, patient, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}  # queued, not run
    plan = make_plan(patient, days_since_race=5)
    assert sweep_at(june, 20) == 1
    CompletionFactory(plan=plan, step_key="rest", date=DAY)
    delivery = ReminderDelivery.objects.get()
    assert reminder_deliver(delivery_id=delivery.pk, worker_id="w") == "skipped"
    delivery.refresh_from_db()
    assert delivery.status == "skipped" and delivery.note == "Something was logged that day." and not mail.outbox


def test_a_day_off_brings_no_ice_reminders_even_one_already_queued(june, patient, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}  # queued, not run
    plan = make_plan(patient, days_since_race=1)
    assert sweep_at(june, 8) == 1  # the first ice session's reminder is queued ...
    day_excuse(plan=plan, date=DAY, today=DAY, reason="flu")  # ... and the patient takes the day off
    delivery = ReminderDelivery.objects.get()
    assert reminder_deliver(delivery_id=delivery.pk, worker_id="w") == "skipped"
    delivery.refresh_from_db()
    assert delivery.note == "The day was taken off."
    assert sweep_at(june, 13) == 0 and sweep_at(june, 18) == 0  # nor the second and third
    assert not mail.outbox


def test_reminders_off_and_patients_who_cannot_log_in_get_nothing(june, patient):
    make_plan(patient, days_since_race=1)
    ReminderSettings.objects.create(user=patient, enabled=False)
    switched_off = PatientFactory(is_active=False)
    make_plan(switched_off, days_since_race=1)
    never_activated = PatientFactory(password=None)  # no password chosen yet
    assert not never_activated.has_usable_password()
    make_plan(never_activated, days_since_race=1)
    assert sweep_at(june, 8) == 0 and not mail.outbox


def test_a_paused_plan_gets_no_reminders(june, patient):
    plan = make_plan(patient, days_since_race=1)
    plan_set_status(plan=plan, status=plan.Status.PAUSED, today=clinic_today())
    assert sweep_at(june, 8) == 0


def test_a_sweep_after_a_long_outage_does_not_send_stale_reminders(june, patient):
    make_plan(patient, days_since_race=1)
    assert sweep_at(june, 9, 30) == 0  # the 08:00 ice session is an hour and a half past
    assert sweep_at(june, 13, 0) == 1


def test_the_times_are_the_clinics_not_the_servers(patient, settings, db):
    settings.TIME_ZONE = "America/New_York"
    new_york = ZoneInfo("America/New_York")
    with time_machine.travel(at(0, 1, tz=new_york), tick=False):
        make_plan(patient, days_since_race=1)
    # 08:00 in New York is 12:00 UTC (daylight saving time).
    assert reminders_queue_due(now=datetime.datetime(2026, 6, 10, 7, 0, tzinfo=datetime.UTC)) == 0
    with time_machine.travel(datetime.datetime(2026, 6, 10, 12, 0, tzinfo=datetime.UTC), tick=False):
        assert reminders_queue_due(now=datetime.datetime(2026, 6, 10, 12, 0, tzinfo=datetime.UTC)) == 1
    assert ReminderDelivery.objects.get().date == DAY


def test_each_slot_is_one_delivery_row_even_if_a_sweep_repeats(june, patient):
    make_plan(patient, days_since_race=1)
    for minute in range(0, 60, 10):
        sweep_at(june, 8, minute)
    assert ReminderDelivery.objects.count() == 1 and len(mail.outbox) == 1
    assert ReminderDelivery.objects.get().status == "sent"


def test_a_failing_mail_server_records_the_delivery_as_failed(june, patient, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.test_alert_mail.BrokenMailer"}}
    make_plan(patient, days_since_race=1)
    sweep_at(june, 8)
    delivery = ReminderDelivery.objects.get()
    assert delivery.status == "failed" and delivery.channel == "email" and delivery.sent_at is None


# Old delivery records


def delivery_on(patient, date, slot=Slot.DAILY):
    due_at = datetime.datetime.combine(date, T(9), tzinfo=LONDON)
    return ReminderDelivery.objects.create(user=patient, date=date, slot=slot, due_at=due_at)


def test_the_sweep_deletes_delivery_records_older_than_ninety_days(june, patient):
    oldest_kept = DAY - KEEP_DELIVERIES
    too_old = delivery_on(patient, oldest_kept - datetime.timedelta(days=1))
    kept = [delivery_on(patient, oldest_kept), delivery_on(patient, DAY, Slot.ICE_1)]
    report = sweep(now=at(0, 1))
    assert report.counts["old reminder records deleted"] == 1 and not report.failed
    assert not ReminderDelivery.objects.filter(pk=too_old.pk).exists()
    assert set(ReminderDelivery.objects.values_list("pk", flat=True)) == {delivery.pk for delivery in kept}


def test_a_backlog_of_old_records_goes_a_batch_per_sweep(june, patient, monkeypatch):
    monkeypatch.setattr(delivery_module, "PRUNE_BATCH", 2)
    long_ago = DAY - KEEP_DELIVERIES - datetime.timedelta(days=30)
    for day in range(3):
        delivery_on(patient, long_ago + datetime.timedelta(days=day))
    assert deliveries_prune(now=at(0, 1)) == 2
    assert ReminderDelivery.objects.get().date == long_ago + datetime.timedelta(days=2)  # the oldest went first
    assert deliveries_prune(now=at(0, 1)) == 1
    assert deliveries_prune(now=at(0, 1)) == 0


def test_a_task_left_for_a_deleted_record_sends_nothing(june, patient):
    old = delivery_on(patient, DAY - KEEP_DELIVERIES - datetime.timedelta(days=1))
    deliveries_prune(now=at(0, 1))
    assert reminder_deliver(delivery_id=old.pk, worker_id="w") == "not claimed"
    assert mail.outbox == []


# The data download


def test_my_data_holds_my_reminder_settings_and_deliveries(june, patient, other_patient, client):
    make_plan(patient, days_since_race=1)
    make_plan(other_patient, days_since_race=1)
    sweep_at(june, 8)
    client.force_login(patient)
    data = json.loads(client.get("/account/my-data.json").content)
    assert data["reminder_settings"] == [
        {
            "enabled": True,
            "ice_time_1": "08:00:00",
            "ice_time_2": "13:00:00",
            "ice_time_3": "18:00:00",
            "daily_time": "09:00:00",
            "evening_nudge": True,
            "evening_time": "20:00:00",
        }
    ]
    [delivery] = data["reminder_deliveries"]
    assert delivery["slot"] == "ice-1" and delivery["status"] == "sent" and delivery["date"] == DAY.isoformat()
    assert delivery["due_at"] == f"{DAY.isoformat()} 08:00:00+01:00"  # the clinic's 08:00, not 07:00 UTC
    csv = client.get("/account/my-data.csv").content.decode()
    assert "reminder_deliveries,1,slot,ice-1" in csv and "reminder_settings,1,enabled,True" in csv

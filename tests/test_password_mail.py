"""The e-mails about a patient's password: the reset link, and the notice that the password was changed."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.password_notice import password_changed_send
from tests.factories import PASSWORD, CheckInFactory, make_plan

NEW_PASSWORD = "a quiet walk along the river"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def clinic(settings):
    settings.CLINIC_NAME = "Harbour Sports Clinic"
    settings.CLINIC_PHONE = "+44 20 7946 0555"
    settings.SITE_URL = "https://recovery.harbour.example"
    return settings


def reset_link(message):
    return next(line for line in message.body.splitlines() if "/accounts/password/reset/" in line).strip()


# The reset e-mail


def test_the_reset_e_mail_is_signed_by_the_clinic_with_its_number_and_says_it_works_once(client, patient, clinic):
    client.post("/accounts/password/reset/", {"email": patient.email})
    [message] = mail.outbox
    assert "The link works once, for 3 hours." in message.body
    assert message.body.rstrip().endswith(
        "Harbour Sports Clinic\nReplies to this e-mail are not read: call us on +44 20 7946 0555."
    )
    assert not re.search(r"^Apex Recovery$", message.body, re.MULTILINE)  # the portal's name, not the sender's
    assert message.body.startswith("Hello Alice,")


@pytest.mark.parametrize(("seconds", "words"), [(2 * 60 * 60, "2 hours"), (60 * 60, "1 hour"), (90 * 60, "90 minutes")])
def test_the_reset_e_mail_says_how_long_the_link_really_works(client, patient, settings, seconds, words):
    settings.PASSWORD_RESET_TIMEOUT = seconds
    page = client.post("/accounts/password/reset/", {"email": patient.email}, follow=True)
    [message] = mail.outbox
    assert f"The link works once, for {words}." in message.body
    assert "The e-mail says how long its link works." in page.text  # the page doesn't guess which e-mail it was


def test_the_page_after_the_form_is_true_for_an_invitation_too(client):
    """A patient who never chose a password gets an invitation, not a reset link: "for 3 hours" was wrong for them,
    and two lifetimes side by side were more than a patient could place."""
    page = client.post("/accounts/password/reset/", {"email": "anyone@example.com"}, follow=True).text
    said = "an e-mail with a link to choose your password is on its way. The e-mail says how long its link works."
    assert said in page
    assert "hours" not in page


def test_the_invitation_says_how_to_get_a_new_link_without_calling(desk, django_capture_on_commit_callbacks, clinic):
    from tests.test_invitations import enrol

    enrol(desk, django_capture_on_commit_callbacks)
    [invitation] = mail.outbox
    assert (
        'If the link has expired, ask for a new one with "Forgotten your password?" on the login page, or call us on'
        " +44 20 7946 0555 and we will send you one."
    ) in invitation.body


# How often the reset page sends an e-mail


def ask(client, email):
    return client.post("/accounts/password/reset/", {"email": email})


def test_the_five_minutes_between_two_e_mails_follow_the_account_however_its_address_is_typed(client, patient):
    from accounts.password_reset import _allowed

    for typed in ("alice@example.com", " ALICE@example.com", "Alice@Example.COM"):
        ask(client, typed)
    assert len(mail.outbox) == 1
    # Keyed on the account, not on the typed string: a spelling the database matches and lower() does not (a
    # look-alike letter under PostgreSQL's case rules) gets no five minutes of its own.
    assert not _allowed(patient, "alice@exampIe.com")


def test_an_account_gets_at_most_three_e_mails_a_day_from_the_reset_page(client, patient, settings):
    settings.TIME_ZONE = "Europe/London"
    # A cache whose clock is the one the test moves (Redis, as CI runs the suite, keeps its own time).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits"}}
    morning = datetime.datetime(2026, 6, 10, 8, 0, tzinfo=LONDON)
    for minutes in (0, 6, 12, 18, 24, 30):  # six asks, each past the five minutes
        with time_machine.travel(morning + datetime.timedelta(minutes=minutes), tick=False):
            ask(client, patient.email)
    assert len(mail.outbox) == 3
    with time_machine.travel(morning + datetime.timedelta(days=1), tick=False):  # the next day
        ask(client, patient.email)
    assert len(mail.outbox) == 4


def test_with_the_cache_away_the_patient_still_gets_their_link(client, patient, settings, monkeypatch):
    """django-redis with IGNORE_EXCEPTIONS answers None when Redis is away: that is no "already sent"."""
    from clinic.env import env_cache

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")  # the discard port: refused at once
    settings.CACHES = {"default": env_cache("REDIS_URL")}
    ask(client, patient.email)
    [message] = mail.outbox
    assert message.to == [patient.email] and "/accounts/password/reset/" in message.body


# The notice that the password was changed


def notices(user):
    return [m for m in mail.outbox if m.to == [user.email] and m.subject == "Your Apex Recovery password was changed"]


def test_a_reset_brings_a_notice_of_when_and_whom_to_call(client, patient, clinic, django_capture_on_commit_callbacks):
    plan = make_plan(patient)
    CheckInFactory(plan=plan, pain=7, note="my hip aches at night", night_pain=True)
    client.post("/accounts/password/reset/", {"email": patient.email})
    link = reset_link(mail.outbox[0]).removeprefix(clinic.SITE_URL)
    set_password_url = client.get(link, follow=True).redirect_chain[-1][0]
    moment = datetime.datetime(2026, 6, 10, 14, 5, tzinfo=LONDON)  # British Summer Time: 13:05 UTC
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == reverse("accounts:password_reset_complete")
    [notice] = notices(patient)
    assert "was changed on Wednesday 10 June 2026 at 14:05." in notice.body
    assert "If this wasn't you, call us on +44 20 7946 0555 straight away." in notice.body
    assert "Replies to this e-mail are not read: call us on +44 20 7946 0555." in notice.body
    # Nothing about their health, and no link to follow.
    for word in ("hip", "pain", "night", "plan", "check-in", "http"):
        assert word not in notice.body.lower()


def test_a_change_on_the_account_page_brings_the_notice(client, patient, django_capture_on_commit_callbacks):
    client.force_login(patient)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert response["Location"] == reverse("accounts:password_change_done")
    [notice] = notices(patient)
    assert notice.body.startswith("Hello Alice,")


def test_a_refused_change_sends_no_notice(client, patient, django_capture_on_commit_callbacks):
    client.force_login(patient)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/password/",
            {"old_password": "not it at all", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert notices(patient) == []


def test_the_notice_is_queued_only_once_the_new_password_is_saved(client, patient, django_capture_on_commit_callbacks):
    client.force_login(patient)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert notices(patient) == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(notices(patient)) == 1


def test_no_notice_to_an_account_switched_off_before_it_went(patient):
    patient.is_active = False
    patient.save()
    assert password_changed_send.call(patient.pk, "2026-06-10T13:05:00+00:00") == 0
    assert mail.outbox == []


# Every e-mail


def test_every_e_mail_names_the_clinic_and_its_number_one_way_from_the_settings():
    """With the tags of clinic/templatetags/clinic_mail.py, never from a context that some code might not pass:
    an e-mail mixing both showed the number from one and, had a context forgotten it, nothing from the other."""
    from pathlib import Path

    from django.conf import settings as django_settings

    templates = sorted(Path(django_settings.BASE_DIR, "templates").glob("*/email/*.txt"))
    assert len(templates) >= 10
    for template in templates:
        text = template.read_text()
        assert "CLINIC_NAME" not in text and "CLINIC_PHONE" not in text, template
        if "{% clinic_" in text:
            assert "{% load clinic_mail %}" in text, template

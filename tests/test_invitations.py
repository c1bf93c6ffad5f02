"""Invitations end to end: the e-mail and its one-time link, choosing a password with consent, links that die
(used, replaced, expired, tampered, switched off), and a failing mail server that loses nothing."""

import datetime
import html
import re
import smtplib
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.frontdesk.invitations import invitation_tokens, invitations_send
from accounts.models import User
from recovery.clock import clinic_today
from recovery.models import Protocol
from tests.test_settings import load_settings

SITE = "https://recovery.example.org"
LONDON = zoneinfo.ZoneInfo("Europe/London")
EXPIRED = "This link can't be used any more"
NEW_PASSWORD = "a slow jog by the canal at dawn"
LINK = re.compile(r"^(https?://\S+/welcome/[^/\s]+/[^/\s]+/)$", re.MULTILINE)


class FailingMailServer(BaseEmailBackend):
    """A mail server that refuses everything, as a broken SMTP relay would."""

    def send_messages(self, messages):
        raise smtplib.SMTPException("421 Service not available")


class UnreachableMailServer(BaseEmailBackend):
    def open(self):
        raise ConnectionRefusedError("Connection refused")

    def send_messages(self, messages):
        raise AssertionError("never reached")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def enrol(desk, capture, email="dana@example.com", **changes):
    data = {
        "first_name": "Dana",
        "last_name": "Scully",
        "email": email,
        "race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(),
        "protocol": Protocol.objects.default().pk,
    }
    data.update(changes)
    with capture(execute=True):
        response = desk.post("/front-desk/enroll/", data)
    assert response.status_code == 302, response.context["form"].errors
    return User.objects.get(email=email)


def resend(desk, capture, patient):
    with capture(execute=True):
        return desk.post(f"/front-desk/patients/{patient.pk}/invite/")


def links_in(message):
    return LINK.findall(message.body)


def last_link():
    [link] = links_in(mail.outbox[-1])
    return link.removeprefix(SITE)


def accept(browser, path, *, consent=True, password=NEW_PASSWORD):
    """Open the invitation link and fill in the form, as the patient's browser would."""
    response = browser.get(path)
    if response.status_code != 302:
        return response
    data = {"new_password1": password, "new_password2": password}
    if consent:
        data["consent"] = "on"
    return browser.post(response["Location"], data)


# The happy path


def test_reception_enrols_and_the_patient_starts_through_the_link(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.to == ["dana@example.com"]
    assert "your recovery plan is ready" in message.subject
    [link] = links_in(message)  # alone on its own line
    assert link.startswith(f"{SITE}/welcome/")
    assert f"\n\n{link}\n\n" in message.body
    assert "Hello Dana" in message.body

    browser = Client()
    response = browser.get(link.removeprefix(SITE))
    assert response.status_code == 302  # the token moves into the session, out of the address bar
    form_page = browser.get(response["Location"])
    assert form_page.status_code == 200
    assert {"new_password1", "new_password2", "consent"} <= set(form_page.context["form"].fields)
    assert 'href="/privacy/"' in form_page.content.decode()

    response = browser.post(
        response["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "consent": "on"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/today/"
    today = browser.get("/today/")
    assert today.status_code == 200
    assert "Rest from running" in today.content.decode()  # today's tasks, on day 1 of the plan
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    assert patient.privacy_consent_at is not None
    assert browser.session["_auth_user_id"] == str(patient.pk)

    # Later, the patient logs in with the password they chose.
    assert (
        Client().post("/accounts/login/", {"username": "dana@example.com", "password": NEW_PASSWORD}).status_code == 302
    )


def welcome_page(path):
    browser = Client()
    return browser.get(browser.get(path)["Location"]).text


def test_the_welcome_page_says_whose_invitation_it_is_before_the_form(
    desk, django_capture_on_commit_callbacks, settings
):
    """An invitation to a mistyped address reaches a stranger: the page tells them it is not theirs, in time."""
    settings.CLINIC_PHONE = "+44 20 7946 0000"
    enrol(desk, django_capture_on_commit_callbacks)
    page = welcome_page(last_link())
    warning = "This invitation is for <strong>Dana S.</strong></p>"
    assert warning in page
    assert 'If that is not you, do not continue: call us on\n        <a href="tel:+442079460000">' in page
    assert page.index(warning) < page.index("<form")
    assert "Scully" not in page  # the last initial is enough for Dana, and too little for a stranger


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [("Mary", "Smith", "Mary S."), (" Mary ", " de la Cruz", "Mary D."), ("Mary", "", "Mary"), ("", "Smith", "")],
)
def test_the_name_a_patient_is_asked_to_recognise(first, last, shown):
    assert User(first_name=first, last_name=last).first_name_and_initial() == shown


def test_without_a_first_name_the_welcome_page_names_the_address(desk, django_capture_on_commit_callbacks):
    """The front desk asks for a first name; an account made in the admin may have none."""
    patient = enrol(desk, django_capture_on_commit_callbacks)
    User.objects.filter(pk=patient.pk).update(first_name="")
    assert "This invitation is for <strong>dana@example.com</strong></p>" in welcome_page(last_link())


def test_the_welcome_page_says_reminders_will_come_and_where_to_change_them(desk, django_capture_on_commit_callbacks):
    enrol(desk, django_capture_on_commit_callbacks)
    page = welcome_page(last_link())
    assert "We will e-mail you reminders for your plan. Once you have chosen your password, you can change" in page
    # Not a link: it needs a password, and a patient sent to the login from here tried "Forgotten your password?".
    assert 'href="/account/reminders/"' not in page


def test_consent_is_required(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    browser = Client()
    response = accept(browser, last_link(), consent=False)
    assert response.status_code == 200
    assert "Please read the privacy notice and tick the box" in response.content.decode()
    patient.refresh_from_db()
    assert not patient.has_usable_password() and patient.privacy_consent_at is None
    assert "_auth_user_id" not in browser.session


def test_a_weak_password_is_refused_in_plain_words(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    response = accept(Client(), last_link(), password="short")
    assert response.status_code == 200
    assert "too short" in html.unescape(response.content.decode())
    # Said under the password the patient chose, where the cursor goes, not under the box that repeats it.
    assert any("too short" in error for error in response.context["form"].errors["new_password1"])
    assert "new_password2" not in response.context["form"].errors
    patient.refresh_from_db()
    assert not patient.has_usable_password()


def test_the_privacy_notice_is_public(client, db):
    response = client.get("/privacy/")
    assert response.status_code == 200
    assert "Privacy notice" in response.content.decode()


# Links that die


def expired(response):
    return response.status_code in (200, 410) and expired_page(response.content.decode())


def expired_page(html):
    return EXPIRED in html


def test_a_second_use_of_the_link_is_refused_and_offers_to_log_in(desk, django_capture_on_commit_callbacks):
    enrol(desk, django_capture_on_commit_callbacks)
    path = last_link()
    patients_phone = Client()
    assert accept(patients_phone, path).status_code == 302
    # Tapped again weeks later, on another device: no form, and Log in comes first.
    again = Client().get(path, follow=True)
    assert "new_password1" not in again.text and expired(again)
    assert again.text.index('href="/accounts/login/"') < again.text.index("Call reception")
    # And on the phone that is still logged in: it has done its job, straight to today's plan.
    on_the_phone = patients_phone.get(path, follow=True).text
    assert "Your account is already set up" in on_the_phone and 'href="/today/"' in on_the_phone


def test_a_made_up_link_does_not_tell_whether_an_account_is_set_up(desk, django_capture_on_commit_callbacks):
    """The token of a used link cannot be checked any more: the page must be the same for any account."""
    set_up = enrol(desk, django_capture_on_commit_callbacks)
    accept(Client(), last_link())
    waiting = enrol(desk, django_capture_on_commit_callbacks, email="eve@example.com")
    pages = []
    for patient in (set_up, waiting):
        uid = urlsafe_base64_encode(force_bytes(patient.pk))
        page = Client().get(f"/welcome/{uid}/cx1k2-9f8e7d6c5b4a3f2e1d0c/", follow=True).text
        pages.append(re.sub(r'nonce="[^"]*"|[A-Za-z0-9]{64}', "", page))  # each page's own nonce and CSRF token
    assert expired_page(pages[0]) and pages[0] == pages[1]


def test_an_old_link_dies_after_a_resend(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    old = last_link()
    response = resend(desk, django_capture_on_commit_callbacks, patient)
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new = last_link()
    assert new != old
    assert expired(Client().get(old, follow=True))
    assert accept(Client(), new)["Location"] == "/today/"


REPLACES = "This link replaces the one we sent before, which no longer works."


def test_a_resent_invitation_does_not_look_like_the_first(desk, django_capture_on_commit_callbacks):
    """Phones group e-mails with the same subject, and the patient tapped the first, dead, link of the thread."""
    patient = enrol(desk, django_capture_on_commit_callbacks)
    resend(desk, django_capture_on_commit_callbacks, patient)
    first, second = mail.outbox
    assert first.subject == "Apex Sports Clinic: your recovery plan is ready"
    assert REPLACES not in first.body
    assert second.subject == "Apex Sports Clinic: your new link to set up Apex Recovery"
    [link] = links_in(second)
    assert f"\n\n{link}\n\n{REPLACES}\n\n" in second.body  # right under the link, on a line of its own


def test_an_invitation_renewed_on_the_reset_page_says_it_replaces_the_first(
    desk, django_capture_on_commit_callbacks, settings
):
    settings.INVITATION_VALID_DAYS = 7
    with time_machine.travel(datetime.datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        enrol(desk, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime(2026, 11, 10, 10, 0, tzinfo=LONDON), tick=False):  # expired
        ask_for_a_link(django_capture_on_commit_callbacks, "dana@example.com")
    assert "your new link" in mail.outbox[-1].subject and REPLACES in mail.outbox[-1].body


def test_the_first_invitation_to_a_corrected_address_is_a_first_one(desk, django_capture_on_commit_callbacks):
    """The earlier invitation went to the mistyped address: at the right one, nothing was sent before."""
    patient = enrol(desk, django_capture_on_commit_callbacks, email="dana@exmaple.com")
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(
            f"/front-desk/patients/{patient.pk}/",
            {
                "first_name": "Dana",
                "last_name": "Scully",
                "email": "dana@example.com",
                "race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(),
            },
        )
    message = mail.outbox[-1]
    assert message.to == ["dana@example.com"]
    assert "your recovery plan is ready" in message.subject and REPLACES not in message.body


def test_an_invitation_queued_before_resends_said_so_still_goes_out(desk, django_capture_on_commit_callbacks):
    """A task waiting in the queue from before this change has no ``replaces_earlier``: it is sent as a first."""
    patient = enrol(desk, django_capture_on_commit_callbacks)
    assert invitations_send.call([[patient.pk, patient.invited_at.isoformat()]]) == 1
    assert mail.outbox[-1].subject == mail.outbox[0].subject


def test_an_old_link_already_opened_in_a_browser_dies_after_a_resend(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    browser = Client()
    form_url = browser.get(last_link())["Location"]  # opened, token in the session, form not yet sent
    resend(desk, django_capture_on_commit_callbacks, patient)
    response = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD, "consent": "on"})
    assert expired(response)
    patient.refresh_from_db()
    assert not patient.has_usable_password()


def test_the_link_works_to_the_end_of_the_day_the_e_mail_names_and_not_after(
    desk, django_capture_on_commit_callbacks, settings
):
    settings.INVITATION_VALID_DAYS = 7
    with time_machine.travel(datetime.datetime(2026, 11, 26, 10, 0, tzinfo=LONDON), tick=False):
        enrol(desk, django_capture_on_commit_callbacks)
    assert "It works once, until 3 December 2026." in mail.outbox[-1].body
    path = last_link()
    with time_machine.travel(datetime.datetime(2026, 12, 3, 23, 59, tzinfo=LONDON), tick=False):
        assert Client().get(path).status_code == 302  # late on the day named: still fine
    with time_machine.travel(datetime.datetime(2026, 12, 4, 0, 1, tzinfo=LONDON), tick=False):
        assert expired(Client().get(path, follow=True))


def test_seven_days_are_seven_days_of_the_clinics_calendar_across_a_change_of_the_clocks(
    desk, django_capture_on_commit_callbacks, settings
):
    # 00:30 summer time on 19 October 2026 is 23:30 UTC on the 18th; seven 24-hour spans later it is 00:30 winter
    # time on the 26th less an hour: 23:30 on the 25th, a link of six days.
    settings.INVITATION_VALID_DAYS = 7
    with time_machine.travel(datetime.datetime(2026, 10, 19, 0, 30, tzinfo=LONDON), tick=False):
        enrol(desk, django_capture_on_commit_callbacks)
    assert "It works once, until 26 October 2026." in mail.outbox[-1].body
    with time_machine.travel(datetime.datetime(2026, 10, 26, 22, 0, tzinfo=LONDON), tick=False):
        assert Client().get(last_link()).status_code == 302


def test_a_link_made_in_the_hour_the_clocks_go_back_works_at_once(desk, django_capture_on_commit_callbacks):
    # 01:30 summer time on 25 October, then 01:10 winter time forty minutes later: the wall clock went back.
    # (time-machine sets the process's zone to the destination's, as Django sets it to the clinic's.)
    with time_machine.travel(datetime.datetime(2026, 10, 25, 1, 30, fold=0, tzinfo=LONDON), tick=False):
        enrol(desk, django_capture_on_commit_callbacks)
    path = last_link()
    with time_machine.travel(datetime.datetime(2026, 10, 25, 1, 10, fold=1, tzinfo=LONDON), tick=False):
        assert Client().get(path).status_code == 302


def test_the_lifetime_follows_the_setting(desk, django_capture_on_commit_callbacks, monkeypatch, settings):
    settings.INVITATION_VALID_DAYS = 1
    enrol(desk, django_capture_on_commit_callbacks)
    path = last_link()
    real_now = invitation_tokens._now()
    monkeypatch.setattr(invitation_tokens, "_now", lambda: real_now + datetime.timedelta(days=2))
    assert expired(Client().get(path, follow=True))
    settings.INVITATION_VALID_DAYS = 3
    assert Client().get(path).status_code == 302


@pytest.mark.parametrize(
    "mangle",
    [
        lambda uid, token: (uid, token[:-1] + ("0" if token[-1] != "0" else "1")),
        lambda uid, token: (uid, "1-" + token.split("-")[1]),
        lambda uid, token: (uid, "not-a-token"),
        lambda uid, token: (uid, "zzzzzzzzzzzzzz"),
        lambda uid, token: ("bm9ib2R5", token),
        lambda uid, token: ("%%%", token),
        lambda uid, token: (urlsafe_base64_encode(b"99999999"), token),
    ],
)
def test_a_tampered_link_shows_the_plain_expired_page(desk, django_capture_on_commit_callbacks, mangle):
    enrol(desk, django_capture_on_commit_callbacks)
    _, _, uid, token, _ = last_link().split("/")
    uid, token = mangle(uid, token)
    response = Client().get(f"/welcome/{uid}/{token}/", follow=True)
    assert expired(response)


def test_a_password_reset_token_is_no_invitation_and_the_reverse(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    uid = urlsafe_base64_encode(force_bytes(patient.pk))
    assert expired(Client().get(f"/welcome/{uid}/{default_token_generator.make_token(patient)}/", follow=True))
    invitation = invitation_tokens.make_token(patient)
    assert not default_token_generator.check_token(patient, invitation)


def test_a_switched_off_patients_link_is_dead(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    path = last_link()
    desk.post(f"/front-desk/patients/{patient.pk}/deactivate/")
    assert expired(Client().get(path, follow=True))


def test_switched_back_on_the_old_link_stays_dead_and_a_new_invitation_goes_out(
    desk, django_capture_on_commit_callbacks
):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    old = last_link()
    desk.post(f"/front-desk/patients/{patient.pk}/deactivate/")
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(f"/front-desk/patients/{patient.pk}/reactivate/", follow=True)
    assert f"A new invitation is on its way to {patient.email}" in response.text
    assert expired(Client().get(old, follow=True))  # the page said the old links are dead: they stay so
    new = last_link()
    assert new != old and accept(Client(), new)["Location"] == "/today/"
    patient.refresh_from_db()
    assert patient.invitation_sent_at is not None  # not "waiting to go" for ever


def test_a_corrected_e_mail_address_kills_the_old_link_and_invites_the_new_one(
    desk, django_capture_on_commit_callbacks
):
    patient = enrol(desk, django_capture_on_commit_callbacks, email="dana@exmaple.com")
    old = last_link()
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"/front-desk/patients/{patient.pk}/",
            {
                "first_name": "Dana",
                "last_name": "Scully",
                "email": "dana@example.com",
                "race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(),
            },
        )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["dana@example.com"]
    assert expired(Client().get(old, follow=True))
    assert accept(Client(), last_link())["Location"] == "/today/"


def test_an_activated_patient_gets_no_new_invitation(desk, patient, plan, django_capture_on_commit_callbacks):
    response = resend(desk, django_capture_on_commit_callbacks, patient)
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_task_for_a_replaced_invitation_sends_nothing(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    stale = [[patient.pk, (patient.invited_at - datetime.timedelta(seconds=1)).isoformat()]]
    assert invitations_send.call(stale) == 0
    assert len(mail.outbox) == 1


# A dead link sends the patient to the password reset page, which sends a new invitation if they never set up


def ask_for_a_link(capture, email):
    """What the dead-link page offers: the password reset form, from a browser with no session."""
    with capture(execute=True):
        return Client().post("/accounts/password/reset/", {"email": email}, follow=True)


def test_the_dead_link_page_sends_the_patient_to_ask_for_a_new_link(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    path = last_link()
    resend(desk, django_capture_on_commit_callbacks, patient)
    dead = Client().get(path, follow=True).text
    assert "Not chosen a password yet, or forgotten it? We can e-mail you a new link to choose one." in dead
    assert 'href="/accounts/password/reset/">Send me a new link</a>' in dead


def test_a_patient_who_never_set_a_password_asks_for_a_link_and_gets_their_invitation_again(
    desk, django_capture_on_commit_callbacks, monkeypatch
):
    """Django sends no reset e-mail to an account without a password: the page said a link was coming and
    nothing came. Now the patient's invitation is sent again, as it is: a new one would kill every earlier link,
    the printed welcome sheet's QR code among them, and anyone who knows the address could do that every five
    minutes."""
    from accounts.frontdesk import welcome_sheet

    sheets = []
    real_link = welcome_sheet.invitation_link
    monkeypatch.setattr(welcome_sheet, "invitation_link", lambda user: sheets.append(real_link(user)) or sheets[-1])
    patient = enrol(desk, django_capture_on_commit_callbacks)
    invited_at = patient.invited_at
    first_mail = mail.outbox[0]
    old = last_link()
    desk.get(f"/front-desk/patients/{patient.pk}/welcome/")
    sheet = sheets[-1].removeprefix("http://127.0.0.1:8000")

    response = ask_for_a_link(django_capture_on_commit_callbacks, "Dana@Example.com ")
    assert "Check your e-mail" in response.text
    assert len(mail.outbox) == 2
    again = mail.outbox[-1]
    assert again.to == ["dana@example.com"]
    assert again.subject == first_mail.subject and REPLACES not in again.body  # nothing says the first one died
    assert "It works once, until" in again.body
    assert again.body.split("It works once, until")[1] == first_mail.body.split("It works once, until")[1]
    patient.refresh_from_db()
    assert patient.invited_at == invited_at  # the same invitation
    for link in (old, last_link()):
        assert Client().get(link)["Location"].startswith("/welcome/")  # the e-mails' links still work
    assert accept(Client(), sheet)["Location"] == "/today/"  # and so does the printed sheet's


def test_an_invitation_sent_again_expires_when_it_always_did(desk, django_capture_on_commit_callbacks, settings):
    """Sent again on day 5, the link still ends with the invitation's seventh day, as its e-mail says: sending
    it again is no way to stretch an invitation."""
    settings.INVITATION_VALID_DAYS = 7
    with time_machine.travel(datetime.datetime(2026, 11, 2, 10, 0, tzinfo=LONDON), tick=False):
        enrol(desk, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime(2026, 11, 7, 10, 0, tzinfo=LONDON), tick=False):
        ask_for_a_link(django_capture_on_commit_callbacks, "dana@example.com")
    assert len(mail.outbox) == 2
    assert "It works once, until 9 November 2026." in mail.outbox[-1].body
    link = last_link()
    with time_machine.travel(datetime.datetime(2026, 11, 9, 23, 50, tzinfo=LONDON), tick=False):
        assert not expired(Client().get(link, follow=True))
    with time_machine.travel(datetime.datetime(2026, 11, 10, 0, 10, tzinfo=LONDON), tick=False):
        assert expired(Client().get(link, follow=True))


@pytest.mark.parametrize("why", ["expired", "e-mail failed"])
def test_an_expired_or_failed_invitation_asked_for_on_the_reset_page_is_renewed(
    desk, django_capture_on_commit_callbacks, settings, why
):
    settings.INVITATION_VALID_DAYS = 7
    asked = datetime.datetime(2026, 11, 10, 10, 0, tzinfo=LONDON)
    with time_machine.travel(asked - datetime.timedelta(days=8 if why == "expired" else 1), tick=False):
        patient = enrol(desk, django_capture_on_commit_callbacks)
    old = last_link()
    if why == "e-mail failed":
        User.objects.filter(pk=patient.pk).update(invitation_sent_at=None, invitation_failed_at=patient.invited_at)
    with time_machine.travel(asked, tick=False):
        ask_for_a_link(django_capture_on_commit_callbacks, "dana@example.com")
        new = last_link()
        assert new != old and REPLACES in mail.outbox[-1].body
        assert expired(Client().get(old, follow=True))  # as after reception's "Send a new invitation"
        assert accept(Client(), new)["Location"] == "/today/"
    patient.refresh_from_db()
    assert patient.invited_at == asked


def test_the_audit_log_says_the_reset_page_sent_the_invitation(desk, django_capture_on_commit_callbacks):
    from audit.models import AuditEvent

    patient = enrol(desk, django_capture_on_commit_callbacks)
    ask_for_a_link(django_capture_on_commit_callbacks, "dana@example.com")
    event = AuditEvent.objects.filter(patient=patient).first()
    assert event.description == "invitation e-mailed again, asked for on the password reset page"
    assert event.actor is None and str(event).endswith("someone not signed in changed " + event.description)


def test_a_switched_off_patient_gets_no_invitation_from_the_reset_page(desk, django_capture_on_commit_callbacks):
    patient = enrol(desk, django_capture_on_commit_callbacks)
    desk.post(f"/front-desk/patients/{patient.pk}/deactivate/")
    ask_for_a_link(django_capture_on_commit_callbacks, "dana@example.com")
    assert len(mail.outbox) == 1
    patient.refresh_from_db()
    assert not patient.is_active and patient.invitation_sent_at < patient.invited_at  # no new invitation


def test_the_reset_page_answers_alike_for_a_waiting_patient_a_set_up_one_and_a_stranger(
    desk, django_capture_on_commit_callbacks, settings
):
    """Nothing on the page, nor in its timing, tells which addresses have an account, set up or not: each
    request queues one task with the address, and nothing is sent within it."""
    from django.tasks import task_backends

    set_up = enrol(desk, django_capture_on_commit_callbacks, email="eve@example.com")
    accept(Client(), last_link())
    enrol(desk, django_capture_on_commit_callbacks)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    sent_before = len(mail.outbox)
    pages = []
    for email in (set_up.email, "dana@example.com", "stranger@example.com"):
        response = Client().post("/accounts/password/reset/", {"email": email}, follow=True)
        assert response.redirect_chain == [("/accounts/password/reset/sent/", 302)]
        pages.append(re.sub(r'nonce="[^"]*"|[A-Za-z0-9]{64}', "", response.text))
    assert pages[0] == pages[1] == pages[2]
    assert len(mail.outbox) == sent_before
    queued = task_backends["default"].results
    assert [result.args for result in queued] == [[set_up.email], ["dana@example.com"], ["stranger@example.com"]]
    assert {result.task.name for result in queued} == {"password_reset_send"}


# A failing mail server never loses an enrolment


@pytest.mark.parametrize("backend", [FailingMailServer, UnreachableMailServer])
def test_a_failing_mail_server_keeps_the_enrolment_and_offers_a_resend(
    desk, django_capture_on_commit_callbacks, settings, backend
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.{backend.__name__}"}}
    patient = enrol(desk, django_capture_on_commit_callbacks)

    patient.refresh_from_db()
    assert patient.plans.count() == 1
    assert patient.invitation_failed_at is not None and patient.invitation_sent_at is None
    assert mail.outbox == []
    front_desk = desk.get("/front-desk/")
    assert patient in front_desk.context["awaiting"]
    page = front_desk.content.decode()
    assert "E-mail not sent" in page
    assert f'action="/front-desk/patients/{patient.pk}/invite/"' in page
    manage = desk.get(f"/front-desk/patients/{patient.pk}/").content.decode()
    assert "The e-mail could not be sent" in manage

    # The mail server is back: reception tries again.
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    resend(desk, django_capture_on_commit_callbacks, patient)
    patient.refresh_from_db()
    assert patient.invitation_sent_at is not None and patient.invitation_failed_at is None
    assert len(mail.outbox) == 1
    assert accept(Client(), last_link())["Location"] == "/today/"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_resending_while_the_mail_server_is_down_says_so_at_once(client, settings):
    """With real commits (no test transaction around the request), the immediate backend has tried by the time
    the page answers: reception reads the outcome straight away."""
    from tests.factories import ReceptionFactory

    client.force_login(ReceptionFactory())
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingMailServer"}}
    response = client.post(
        "/front-desk/enroll/",
        {
            "first_name": "Dana",
            "last_name": "Scully",
            "email": "dana@example.com",
            "race_date": clinic_today().isoformat(),
            "protocol": Protocol.objects.default().pk,
        },
        follow=True,
    )
    assert "E-mail not sent" in response.content.decode()
    patient = User.objects.get(email="dana@example.com")
    response = client.post(f"/front-desk/patients/{patient.pk}/invite/", follow=True)
    assert "could not be e-mailed" in response.content.decode()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    response = client.post(f"/front-desk/patients/{patient.pk}/invite/", follow=True)
    assert "A new invitation is on its way" in response.content.decode()
    assert len(mail.outbox) == 1


# The setting


def test_invitation_valid_days_comes_from_the_environment(monkeypatch):
    assert load_settings(monkeypatch, DJANGO_DEBUG="true").INVITATION_VALID_DAYS == 7
    assert load_settings(monkeypatch, DJANGO_DEBUG="true", INVITATION_VALID_DAYS="14").INVITATION_VALID_DAYS == 14
    for bad in ("0", "a week"):
        with pytest.raises(ImproperlyConfigured, match="INVITATION_VALID_DAYS"):
            load_settings(monkeypatch, DJANGO_DEBUG="true", INVITATION_VALID_DAYS=bad)

"""Sessions: a new id at sign-in, staff signed out after 30 idle minutes, patients after 14 days, and signing
out, a password change or a switched-off account ending the person's other sessions."""

import datetime
import re
import time
from html import unescape

import pytest
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as CACHED_SESSION_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import UNSAVED_POST
from accounts.security import SEEN_AT_KEY, SIGNED_IN_AT_KEY, STAFF_SESSION_KEY
from audit.models import Action, AuditEvent
from jobs.sweep import sweep
from recovery.models import Tip
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TODAY = "/today/"


def signed_in_client(email, password=PASSWORD):
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, response
    return client


def session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def move_session_clock(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = int(time.time()) - ago
    session.save()


# -- A new session at sign-in ------------------------------------------------------------------------------------


def test_signing_in_gives_a_new_session_id_and_drops_the_old_one(client, patient):
    session = client.session
    session["before"] = "anonymous visit"
    session.save()
    before = session.session_key
    client.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session["_auth_user_id"] == str(patient.pk)


# -- Staff: 30 idle minutes --------------------------------------------------------------------------------------


def test_a_staff_session_ends_after_thirty_idle_minutes(clinician):
    client = signed_in_client("physio@example.com")
    assert client.session[STAFF_SESSION_KEY] is True
    assert client.get("/admin/").status_code == 200
    key = client.session.session_key
    move_session_clock(client, **{SEEN_AT_KEY: 31 * 60})
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not Session.objects.filter(session_key=key).exists()
    assert AuditEvent.objects.filter(
        action=Action.LOGOUT, actor=clinician, description="signed out after inactivity"
    ).exists()


def test_reception_counts_as_staff_too(reception):
    client = signed_in_client("desk@example.com")
    move_session_clock(client, **{SEEN_AT_KEY: 31 * 60})
    assert client.get("/front-desk/")["Location"].startswith("/accounts/login/")


def test_a_form_sent_after_thirty_idle_minutes_says_it_was_not_saved(reception):
    client = signed_in_client("desk@example.com")
    move_session_clock(client, **{SEEN_AT_KEY: 31 * 60})
    page = client.post("/front-desk/enroll/", {"first_name": "Dana"}, follow=True).text
    assert "You were signed out after a while without activity. What you sent was not saved" in page
    assert "You had been signed out" not in page  # one message, not two


def test_a_check_in_sent_after_the_session_ended_says_on_the_login_page_it_was_not_saved(patient, plan):
    """Seen by an audit: the check-in with a warning sign was lost, and after the login the page showed the one
    saved earlier that day as "Thank you: today's check-in is saved"."""
    phone = signed_in_client(patient.email)
    phone.post("/check-in/", {"pain": "2"})
    Session.objects.all().delete()
    cache.clear()  # the cached sessions too: signed out on another phone, or 14 days gone
    response = phone.post("/check-in/", {"pain": "9", "cannot_bear_weight": "on"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert plan.check_ins.get().pain == 2
    login_page = unescape(response.text)
    assert "You had been signed out, so your check-in was not saved." in login_page
    assert "If you have a warning sign, don't wait: call 999 in an emergency, or the clinic." in login_page
    message = re.search(r'<div class="alert alert-warning"[^>]*>', response.text)[0]
    assert 'role="alert"' in message and "data-focus-on-load" in message  # read first, not the e-mail field
    # Logged in again, the check-in page says first that the answers shown are the ones saved before.
    after = phone.post(
        "/accounts/login/", {"username": patient.email, "password": PASSWORD, "next": "/check-in/"}, follow=True
    ).text
    unsaved = after[after.index("data-unsaved") : after.index("</div>", after.index("data-unsaved"))]
    assert "Your last answers were not saved" in unsaved and "the check-in saved earlier today" in unsaved
    assert after.count("data-focus-on-load") == 1  # on that, not on "Thank you: today's check-in is saved"
    assert "data-unsaved" not in phone.get("/check-in/").text  # said once


def test_a_clinicians_edit_sent_after_signing_out_elsewhere_says_it_was_not_saved(clinician):
    """Signing out on another computer ends every session: the tip typed here goes to the admin's login page."""
    desk = signed_in_client("physio@example.com")
    tip = Tip.objects.first()
    url = reverse("admin:recovery_tip_change", args=[tip.pk])
    Session.objects.all().delete()
    cache.clear()
    response = desk.post(url, {"title": "A new title"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert UNSAVED_POST in response.text
    tip.refresh_from_db()
    assert tip.title != "A new title"


def test_a_tick_sent_after_the_session_ended_says_so_after_the_reload(patient, plan):
    phone = signed_in_client(patient.email)
    step = plan.steps.first()
    Session.objects.all().delete()
    cache.clear()
    tick = phone.post(f"/today/steps/{step.pk}/tick/", {"count": "1"}, headers={"hx-request": "true"})
    assert tick["HX-Refresh"] == "true"
    reloaded = phone.get("/today/", follow=True).text
    assert "what you sent was not saved" in reloaded


def test_typing_in_a_staff_form_keeps_the_session_from_timing_out(clinician):
    """The page's script posts to still-here while someone types: a long tip is not lost to the idle sign-out."""
    client = signed_in_client("physio@example.com")
    page = client.get(reverse("admin:recovery_tip_change", args=[Tip.objects.first().pk])).text
    assert 'src="/static/js/still-here.js" data-url="/accounts/still-here/"' in page
    move_session_clock(client, **{SEEN_AT_KEY: 29 * 60})
    assert client.post(reverse("accounts:still_here")).status_code == 204
    assert time.time() - client.session[SEEN_AT_KEY] < 5
    assert Client().post(reverse("accounts:still_here")).status_code == 401  # nobody signed in: nothing kept alive


def test_a_staff_session_used_within_thirty_minutes_goes_on_and_is_refreshed(clinician):
    client = signed_in_client("physio@example.com")
    move_session_clock(client, **{SEEN_AT_KEY: 29 * 60})
    assert client.get("/admin/").status_code == 200
    assert time.time() - client.session[SEEN_AT_KEY] < 5
    # …and the stored session and its cookie now expire a little after the next 30 minutes.
    expires_in = (session_row(client).expire_date - timezone.now()).total_seconds()
    assert 30 * 60 < expires_in <= 35 * 60


def test_the_last_seen_time_is_not_written_on_every_request(clinician):
    client = signed_in_client("physio@example.com")
    move_session_clock(client, **{SEEN_AT_KEY: 60})
    stored = session_row(client).session_data
    for _ in range(3):
        assert client.get("/admin/").status_code == 200
    assert session_row(client).session_data == stored  # nothing written for a minute-old stamp


def test_a_staff_session_ends_twelve_hours_after_sign_in_however_busy(clinician):
    client = signed_in_client("physio@example.com")
    move_session_clock(client, **{SIGNED_IN_AT_KEY: 12 * 60 * 60 + 1, SEEN_AT_KEY: 0})
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


# -- Patients: 14 days, with no session write on their pages ----------------------------------------------------------


def test_a_patient_session_lasts_fourteen_days_from_sign_in(patient, plan, settings):
    assert settings.SESSION_COOKIE_AGE == 14 * 24 * 60 * 60
    client = signed_in_client("alice@example.com")
    assert client.session[STAFF_SESSION_KEY] is False
    row = session_row(client)
    assert abs((row.expire_date - timezone.now()) - datetime.timedelta(days=14)) < datetime.timedelta(minutes=1)
    # Nothing is written as the patient uses the portal (even with an old stamp): the expiry stays put.
    move_session_clock(client, **{SEEN_AT_KEY: 3 * 24 * 60 * 60})
    stored = session_row(client)
    assert client.get(TODAY).status_code == 200
    assert session_row(client).session_data == stored.session_data
    assert session_row(client).expire_date == stored.expire_date
    # Fourteen days on, the session is gone.
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    cache.delete(CACHED_SESSION_PREFIX + row.pk)  # with Redis, the cached copy expires then too (tests/test_cache.py)
    assert client.get(TODAY)["Location"].startswith("/accounts/login/")


def test_patients_are_not_signed_out_after_thirty_idle_minutes(patient, plan):
    client = signed_in_client("alice@example.com")
    move_session_clock(client, **{SEEN_AT_KEY: 2 * 60 * 60})
    assert client.get(TODAY).status_code == 200


# -- Ending the other sessions --------------------------------------------------------------------------------------


def test_signing_out_is_a_post_and_ends_this_session_and_the_persons_others(patient, plan):
    phone, laptop = signed_in_client("alice@example.com"), signed_in_client("alice@example.com")
    assert phone.get(reverse("accounts:logout")).status_code == 405
    key = phone.session.session_key
    assert phone.post(reverse("accounts:logout")).status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert phone.get(TODAY)["Location"].startswith("/accounts/login/")
    assert laptop.get(TODAY)["Location"].startswith("/accounts/login/")
    # Signing in again works as before.
    assert signed_in_client("alice@example.com").get(TODAY).status_code == 200


def test_a_password_change_keeps_this_session_and_ends_the_others(patient, plan):
    phone, laptop = signed_in_client("alice@example.com"), signed_in_client("alice@example.com")
    new_password = "a much longer passphrase 2026"
    response = phone.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert phone.get(TODAY).status_code == 200
    assert laptop.get(TODAY)["Location"].startswith("/accounts/login/")


def test_switching_off_an_account_at_the_front_desk_ends_all_its_sessions(patient, plan, reception):
    phone = signed_in_client("alice@example.com")
    desk = Client()
    desk.force_login(reception)
    desk.post(reverse("frontdesk:deactivate", args=[patient.pk]))
    assert phone.get(TODAY)["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=phone.session.session_key).exists()


def test_the_clinics_clock_deletes_expired_sessions_and_keeps_the_live_ones(patient, plan, clinician):
    # Health portals keep no more than they need: a session row outlives its use only until the next sweep.
    expired, live = signed_in_client("alice@example.com"), signed_in_client(clinician.email)
    Session.objects.filter(pk=session_row(expired).pk).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    report = sweep()
    assert report.counts["expired sessions deleted"] == 1
    assert list(Session.objects.values_list("pk", flat=True)) == [session_row(live).pk]
    assert live.get(reverse("admin:index")).status_code == 200

"""Signing in: the lockout after repeated failures, and two-factor sign-in (TOTP) for staff."""

import datetime
import importlib

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from audit.models import Action, AuditEvent
from tests.factories import PASSWORD
from tests.test_settings import load_settings, production

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
NEW_PASSWORD = "a brand new passphrase 2026"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


def signed_in(client):
    return "_auth_user_id" in client.session


# -- Sign-in records ---------------------------------------------------------------------------------------------


def test_the_sweep_deletes_sign_in_records_older_than_ninety_days_and_keeps_recent_ones(client, patient, reception):
    """django-axes records the e-mail, address and browser of every sign-in (axes_accesslog): kept for ever until
    the sweep pruned them."""
    from axes.models import AccessLog
    from django.utils import timezone

    from jobs.sweep import sweep

    assert signed_in_from(client, patient.email) and signed_in_from(Client(), reception.email)
    old, recent = AccessLog.objects.order_by("pk")
    now = timezone.now()
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=now - datetime.timedelta(days=91))
    AccessLog.objects.filter(pk=recent.pk).update(attempt_time=now - datetime.timedelta(days=89))

    report = sweep(now=now)

    assert report.counts["old sign-in records deleted"] == 1 and not report.failed
    assert list(AccessLog.objects.values_list("username", flat=True)) == [reception.email]
    assert sweep(now=now).counts["old sign-in records deleted"] == 0


def signed_in_from(client, email):
    sign_in(client, email)
    return signed_in(client)


# -- Lockout -----------------------------------------------------------------------------------------------------


def test_five_failures_lock_the_address_for_fifteen_minutes_with_a_plain_message(client, patient, settings):
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME) == (5, datetime.timedelta(minutes=15))
    for _ in range(4):
        response = sign_in(client, "alice@example.com", "wrong password")
        assert response.status_code == 200
        assert "do not match our records" in response.content.decode()
    response = sign_in(client, "Alice@Example.com ", "wrong password")  # the same address, typed differently
    assert response.status_code == 429
    page = response.content.decode()
    assert "signing in is paused for 15 minutes" in page
    assert 'name="username"' in page  # the login page itself, not an error page
    # Locked: even the right password does not sign in now.
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 429 and not signed_in(client)
    # Fifteen minutes later it does.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=16))
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 302 and signed_in(client)


def test_the_lockout_is_per_address_so_others_still_sign_in(client, patient, other_patient):
    for _ in range(5):
        sign_in(client, "alice@example.com", "wrong password")
    response = sign_in(Client(), "charlie@example.com")
    assert response.status_code == 302


def test_a_lockout_reveals_nothing_about_whether_the_address_has_an_account(client, db):
    for _ in range(5):
        response = sign_in(client, "nobody@example.com", "wrong password")
    assert response.status_code == 429
    assert "signing in is paused" in response.content.decode()


def test_staff_unlock_an_address_with_the_management_command(client, patient, capsys):
    for _ in range(5):
        sign_in(client, "alice@example.com", "wrong password")
    call_command("axes_reset_username", "alice@example.com")
    assert "1 attempts removed" in capsys.readouterr().out
    assert sign_in(client, "alice@example.com").status_code == 302


def test_a_superuser_unlocks_an_address_in_the_admin(client, patient, superuser):
    for _ in range(5):
        sign_in(client, "alice@example.com", "wrong password")
    attempt = AccessAttempt.objects.get(username="alice@example.com")
    admin = Client()
    admin.force_login(superuser)
    assert "alice@example.com" in admin.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    response = admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert sign_in(client, "alice@example.com").status_code == 302


def test_failed_and_successful_sign_ins_are_in_the_audit_log(client, patient):
    sign_in(client, "alice@example.com", "wrong password")
    sign_in(client, "alice@example.com")
    failed = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert failed.actor_email == "alice@example.com" and failed.actor is None
    assert failed.ip_address == "127.0.0.1" and failed.status == 200
    succeeded = AuditEvent.objects.filter(action=Action.LOGIN, actor=patient).latest("pk")
    assert succeeded.ip_address == "127.0.0.1" and succeeded.path == LOGIN


def test_a_password_typed_into_the_address_box_is_not_logged(client, db):
    response = sign_in(client, "my secret password", "wrong")
    assert response.status_code == 200  # not an e-mail address: refused before any sign-in is tried
    assert not AuditEvent.objects.filter(actor_email__contains="secret").exists()
    assert not AccessAttempt.objects.filter(username__contains="secret").exists()


def test_an_address_pasted_with_an_invisible_character_signs_in(client, patient):
    assert sign_in(client, patient.email + "\u200b")["Location"] != LOGIN and signed_in(client)


def test_addresses_stored_with_an_invisible_character_are_cleaned_so_their_owners_can_sign_in(client, db, capsys):
    """Since the login drops a pasted zero-width space, an account stored with one would be locked out for good."""
    from django.apps import apps

    from tests.factories import PatientFactory

    migration = importlib.import_module("accounts.migrations.0006_emails_without_invisible_characters")
    ann = PatientFactory(email="ann@example.com\u200b")
    PatientFactory(email="bob@example.com")
    bob_twice = PatientFactory(email="bob@example.com\u2060")
    migration.clean_addresses(apps, None)
    ann.refresh_from_db()
    bob_twice.refresh_from_db()
    assert ann.email == "ann@example.com" and signed_in_after(client, "ann@example.com")
    assert bob_twice.email == "bob@example.com\u2060"  # would be another account's: left, and named
    assert f"Account {bob_twice.pk}:" in capsys.readouterr().out


def signed_in_after(client, email):
    sign_in(client, email)
    return signed_in(client)


def test_lockout_settings_come_from_the_environment(monkeypatch):
    prod = load_settings(monkeypatch, **production(SIGN_IN_LOCKOUT_FAILURES="3", SIGN_IN_LOCKOUT_MINUTES="60"))
    assert prod.AXES_FAILURE_LIMIT == 3
    assert prod.AXES_COOLOFF_TIME == datetime.timedelta(hours=1)
    assert prod.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert prod.TWO_FACTOR_REQUIRED_FOR_SUPERUSERS is True


# -- Two-factor sign-in ------------------------------------------------------------------------------------------


def code(device, steps_ahead=0):
    """The code the person's authenticator app shows (``steps_ahead``: the next one, as a code is used once)."""
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead)
    return f"{token:0{device.digits}d}"


def turn_on_two_factor(client):
    page = client.get(reverse("accounts:two_factor"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'class="qr-code"' in html  # the QR code, inline: no image request, no inline style
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert not TOTPDevice.objects.exists()  # opening the page writes nothing
    app = TOTPDevice(key=client.session[two_factor.NEW_KEY])  # what the app reads from the QR code
    response = client.post(reverse("accounts:two_factor"), {"password": PASSWORD, "token": code(app)})
    assert response.status_code == 302
    device = TOTPDevice.objects.get()
    assert device.confirmed and device.key == app.key
    return device


@pytest.mark.parametrize("role", ["reception", "clinician", "superuser"])
def test_every_staff_member_can_turn_on_two_factor_sign_in(client, request, role):
    person = request.getfixturevalue(role)
    client.force_login(person)
    device = turn_on_two_factor(client)
    assert device.user == person
    assert "Two-factor sign-in is on" in client.get(reverse("accounts:two_factor")).content.decode()


def test_patients_have_no_two_factor_page(patient_client):
    assert patient_client.get(reverse("accounts:two_factor"))["Location"] == reverse("home")


def test_a_wrong_code_does_not_turn_it_on(client, clinician):
    client.force_login(clinician)
    client.get(reverse("accounts:two_factor"))
    response = client.post(reverse("accounts:two_factor"), {"password": PASSWORD, "token": "000000"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()


def test_turning_it_on_needs_the_password_so_an_open_session_cannot_bind_a_strangers_phone(client, clinician):
    client.force_login(clinician)
    client.get(reverse("accounts:two_factor"))
    app = TOTPDevice(key=client.session[two_factor.NEW_KEY])
    for password in ["", "not-the-password"]:
        response = client.post(reverse("accounts:two_factor"), {"password": password, "token": code(app)})
        assert response.status_code == 200
        assert not TOTPDevice.objects.exists()
    assert "That is not your password." in response.content.decode()


def change_password(client, old_password):
    data = {"old_password": old_password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return client.post(reverse("accounts:password_change"), data)


def lock_out_at_the_login_page(email):
    """A stranger's five wrong guesses for ``email``, from another browser."""
    for _ in range(5):
        sign_in(Client(), email, password="a stranger's guess 1")


def test_a_strangers_wrong_guesses_at_the_login_page_do_not_sign_the_owner_out(client, clinician):
    """Five wrong passwords for a clinician's address lock it; the clinician, signed in, still proves it is them."""
    lock_out_at_the_login_page("physio@example.com")
    client.force_login(clinician)
    response = change_password(client, PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    clinician.refresh_from_db()
    assert clinician.check_password(NEW_PASSWORD)


def test_a_stranger_locking_the_address_does_not_sign_the_owner_out_over_one_slip(client, clinician):
    """Four wrong guesses at the login page and one typo of the owner's: the owner keeps the session."""
    lock_out_at_the_login_page("physio@example.com")
    client.force_login(clinician)
    response = change_password(client, "a slip of the finger")
    assert response.status_code == 200 and signed_in(client)
    assert "Your old password was entered incorrectly" in response.text


def test_a_wrong_password_typed_to_change_it_is_not_kept_where_the_attempts_are(client, clinician):
    """django-axes stores the failed attempt's form: the old and new passwords were in it as typed."""
    client.force_login(clinician)
    change_password(client, "nearly-my-password")
    [attempt] = AccessAttempt.objects.all()
    assert "nearly-my-password" not in attempt.post_data and NEW_PASSWORD not in attempt.post_data


def test_five_wrong_passwords_in_an_open_session_sign_it_out_and_lock_the_account(client, clinician):
    """Whoever guesses at an open session's password is not its owner, or cannot prove it."""
    client.force_login(clinician)
    for _ in range(5):
        response = change_password(client, "a-wrong-guess-1234")
    assert response.status_code == 429
    assert "Too many unsuccessful attempts" in response.content.decode()
    assert not signed_in(client)
    assert sign_in(client, "physio@example.com").status_code == 429  # the right password waits for the lockout
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)


def test_once_on_signing_in_asks_for_the_code_after_the_password(client, clinician):
    client.force_login(clinician)
    device = turn_on_two_factor(client)
    client.post(reverse("accounts:logout"))
    response = sign_in(client, "physio@example.com", next="/admin/")
    assert response["Location"] == reverse("accounts:two_factor_verify")
    assert not signed_in(client)  # nobody is signed in on the password alone
    response = client.post(reverse("accounts:two_factor_verify"), {"token": "123456"})
    assert response.status_code == 200 and not signed_in(client)
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, description="wrong two-factor code").exists()
    TOTPDevice.objects.update(throttling_failure_timestamp=None)  # as if the one-second wait had passed
    response = client.post(reverse("accounts:two_factor_verify"), {"token": code(device, steps_ahead=1)})
    assert response["Location"] == "/admin/"
    assert signed_in(client)
    assert client.get("/admin/").status_code == 200


def test_the_admins_own_login_form_cannot_skip_the_code(client):
    response = client.get("/admin/login/?next=/admin/recovery/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Frecovery%2F"


@pytest.fixture
def production_two_factor(settings):
    settings.TWO_FACTOR_REQUIRED_FOR_SUPERUSERS = True
    settings.DEBUG = False


def test_in_production_a_superuser_without_a_verified_device_is_refused_the_admin(
    client, superuser, production_two_factor
):
    client.force_login(superuser)
    response = client.get("/admin/recovery/recoveryplan/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/?next=%2Fadmin%2Frecovery%2Frecoveryplan%2F"
    assert client.get("/front-desk/")["Location"].startswith("/accounts/two-factor/")
    # Setting it up, with a code generated here as the phone would, lets them in.
    device = turn_on_two_factor(client)
    assert client.get("/admin/recovery/recoveryplan/").status_code == 200
    # The next sign-in asks for a code again before the admin.
    client.post(reverse("accounts:logout"))
    sign_in(client, "admin@example.com", next="/admin/")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    client.post(reverse("accounts:two_factor_verify"), {"token": code(device, steps_ahead=1)})
    assert client.get("/admin/").status_code == 200


def test_in_production_a_superuser_with_a_device_but_an_unverified_session_types_a_code(
    client, superuser, production_two_factor
):
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.force_login(superuser)  # e.g. signed in before the device was added
    assert client.get("/admin/")["Location"].startswith("/accounts/two-factor/")
    page = client.get("/accounts/two-factor/?next=/admin/")
    assert "type the code it shows" in page.content.decode() and "<svg" not in page.content.decode()
    response = client.post("/accounts/two-factor/", {"token": code(device), "next": "/admin/"})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_clinicians_are_not_forced_to_use_two_factor(client, clinician, production_two_factor):
    client.force_login(clinician)
    assert client.get("/admin/").status_code == 200


def test_two_factor_codes_are_throttled_after_wrong_guesses(client, clinician):
    device = TOTPDevice.objects.create(user=clinician, name="phone", confirmed=True)
    sign_in(client, "physio@example.com")
    for _ in range(3):
        client.post(reverse("accounts:two_factor_verify"), {"token": "000000"})
    response = client.post(reverse("accounts:two_factor_verify"), {"token": code(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert not signed_in(client)

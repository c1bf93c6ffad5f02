"""A form that comes back with a problem puts the cursor on the field to fix (clinic.forms.FocusFirstProblem), and a
problem with the whole form is announced and focused: a keyboard or screen-reader user is not left at the top of
the page with the message out of sight (accessibility audit, session 14)."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from recovery.models import Protocol

pytestmark = pytest.mark.django_db


def focused_field(html):
    """The name of the one field the page puts the cursor on."""
    [tag] = re.findall(r"<(?:input|select|textarea)[^>]*\bautofocus\b[^>]*>", html)
    return re.search(r'name="([^"]+)"', tag)[1]


def test_a_password_reset_with_no_address_puts_the_cursor_on_it_and_says_so_plainly(client):
    html = client.post("/accounts/password/reset/", {"email": ""}).text
    assert focused_field(html) == "email" and "Enter the e-mail address you log in with." in html


def test_new_passwords_that_differ_put_the_cursor_on_the_second(client, patient):
    uid = urlsafe_base64_encode(force_bytes(patient.pk))
    form_url = client.get(f"/accounts/password/reset/{uid}/{default_token_generator.make_token(patient)}/")["Location"]
    html = client.post(form_url, {"new_password1": "a long passphrase 2026", "new_password2": "another one 2026"}).text
    assert focused_field(html) == "new_password2" and "Type it again" in html


def test_a_reminder_time_that_is_not_a_time_puts_the_cursor_on_it(patient_client, plan):
    data = {"enabled": "on", "ice_time_1": "08:00", "ice_time_2": "soon", "ice_time_3": "20:00", "daily_time": "09:00"}
    html = patient_client.post("/account/reminders/", {**data, "evening_time": "19:00"}).text
    assert focused_field(html) == "ice_time_2"


def test_a_group_intake_without_its_file_puts_the_cursor_on_the_file(desk):
    html = desk.post("/front-desk/import/", {"protocol": Protocol.objects.default().pk}).text
    assert focused_field(html) == "file" and "Choose the CSV file to upload." in html


def test_a_wrong_password_is_announced_and_focused_not_the_e_mail_field(client, patient):
    html = client.post("/accounts/login/", {"username": patient.email, "password": "not it at all"}).text
    alert = re.search(r'<div class="alert[^"]*"[^>]*>', html)[0]
    assert 'role="alert"' in alert and "data-focus-on-load" in alert and 'tabindex="-1"' in alert
    assert "js/focus.js" in html

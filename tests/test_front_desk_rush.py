"""The front desk the morning after a marathon: the race date typed once for a queue of runners, and a mistyped
e-mail domain asked about before the invitation goes to an address that does not exist."""

import datetime
import re
from html import unescape

import pytest

from accounts.frontdesk.email_typos import suggestion
from accounts.models import User
from recovery.clock import clinic_today
from recovery.models import RecoveryPlan
from tests.test_front_desk import ENROL, enrol_data


def race_date_value(page):
    field = re.search(r'<input type="date" name="race_date"[^>]*>', page)[0]
    value = re.search(r'value="([^"]*)"', field)
    return value[1] if value else None


# The race date, typed once


def test_the_next_enrolment_starts_with_the_race_date_just_typed(desk):
    assert race_date_value(desk.get(ENROL).text) is None  # nothing to go on yet

    race_day = clinic_today() - datetime.timedelta(days=2)
    desk.post(ENROL, enrol_data(race_date=race_day.isoformat()))
    page = unescape(desk.get(ENROL).text)

    assert race_date_value(page) == race_day.isoformat()
    assert f"Filled in from the patient you enrolled before ({race_day:%-d %b %Y})" in page
    desk.post(ENROL, enrol_data(first_name="Fox", email="fox@example.com", race_date=race_day.isoformat()))
    assert RecoveryPlan.objects.filter(race_date=race_day).count() == 2


def test_a_remembered_race_date_no_plan_may_start_from_is_not_filled_in(desk):
    session = desk.session
    session["frontdesk_last_race_date"] = (clinic_today() - datetime.timedelta(days=400)).isoformat()
    session.save()

    assert race_date_value(desk.get(ENROL).text) is None


def test_a_refused_enrolment_keeps_what_was_typed_not_the_remembered_date(desk):
    desk.post(ENROL, enrol_data())
    typed = (clinic_today() - datetime.timedelta(days=3)).isoformat()

    page = desk.post(ENROL, enrol_data(first_name="", email="fox@example.com", race_date=typed)).text

    assert race_date_value(page) == typed


# "Did you mean …?"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ann@gmial.com", "ann@gmail.com"),
        ("Ann@Gmail.con", "ann@gmail.com"),
        ("ann@hotmail.couk", "ann@hotmail.co.uk"),
        ("ann@yahooo.co.uk", "ann@yahoo.co.uk"),
        ("ann@outlok.com", "ann@outlook.com"),
        ("ann@runningclub.con", "ann@runningclub.com"),
        ("ann@runningclub.co.uj", "ann@runningclub.co.uk"),
        ("ann@gmail.com", None),
        ("ann@mac.com", None),  # a real domain one letter from me.com
        ("ann@aol.co.uk", None),
        ("ann@example.com", None),
        ("ann@nhs.net", None),
        ("ann@leeds.ac.uk", None),
        ("ann@gamil.com", "ann@gmail.com"),
        ("ann@gmail.co", "ann@gmail.com"),  # cut short
        # Real providers close to common ones: never another provider's mailbox for a password link.
        ("ann@ymail.com", None),
        ("ann@rocketmail.com", None),
        ("ann@fastmail.co.uk", None),
        ("ann@live.com.au", None),
        ("ann@gmail.co.uk", None),
    ],
)
def test_a_likely_typing_mistake_in_the_domain_is_named(typed, meant):
    assert suggestion(typed) == meant


def test_enrolling_a_mistyped_address_asks_once_and_takes_the_answer(desk):
    response = desk.post(ENROL, enrol_data(email="dana@gmial.com"))

    page = unescape(response.text)
    assert "Did you mean dana@gmail.com? Check the address with the patient" in page
    assert '<input type="hidden" name="email_checked" value="dana@gmial.com"' in page
    assert not User.objects.filter(email="dana@gmial.com").exists()

    # Right as typed, it is enrolled as typed.
    desk.post(ENROL, enrol_data(email="dana@gmial.com", email_checked="dana@gmial.com"))
    assert RecoveryPlan.objects.filter(patient__email="dana@gmial.com").exists()


def test_the_suggested_address_is_enrolled_without_another_question(desk):
    desk.post(ENROL, enrol_data(email="dana@gmial.com"))
    desk.post(ENROL, enrol_data(email="dana@gmail.com", email_checked="dana@gmial.com"))

    assert RecoveryPlan.objects.filter(patient__email="dana@gmail.com").exists()


def test_another_mistake_after_the_question_is_asked_about_again(desk):
    response = desk.post(ENROL, enrol_data(email="dana@hotmial.com", email_checked="dana@gmial.com"))

    assert "Did you mean dana@hotmail.com?" in unescape(response.text)
    assert not User.objects.filter(email="dana@hotmial.com").exists()


def test_correcting_an_address_at_the_desk_is_asked_about_too(desk, patient, plan):
    patient.set_unusable_password()  # still to activate: reception may correct the address
    patient.save()
    data = {"first_name": "Alice", "last_name": "X", "email": "alice@hotmial.com", "race_date": plan.race_date}

    page = unescape(desk.post(f"/front-desk/patients/{patient.pk}/", data).text)

    assert "Did you mean alice@hotmail.com?" in page
    patient.refresh_from_db()
    assert patient.email == "alice@example.com"


def test_a_race_date_corrected_on_the_last_patient_is_the_one_the_next_form_starts_with(desk):
    typed, meant = (clinic_today() - datetime.timedelta(days=days) for days in (2, 1))
    response = desk.post(ENROL, enrol_data(race_date=typed.isoformat()), follow=True)
    assert f"Dana Scully is enrolled, from race day {typed:%-d %b %Y}." in unescape(response.text)
    dana = User.objects.get(email="dana@example.com")

    desk.post(
        f"/front-desk/patients/{dana.pk}/",
        {"first_name": "Dana", "last_name": "Scully", "email": dana.email, "phone": "", "race_date": meant.isoformat()},
    )

    assert race_date_value(desk.get(ENROL).text) == meant.isoformat()

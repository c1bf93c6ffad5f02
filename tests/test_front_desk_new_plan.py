"""A returning runner at the front desk: their last plan is complete, and reception starts the next one (a new
race) without a clinician, as it would enrol a new patient. Their account, password and history are kept."""

import datetime
from html import unescape

import pytest
from django.core import mail
from django.utils import timezone

from accounts.frontdesk.forms import STAFF_EMAIL
from audit.models import Action, AuditEvent
from recovery.care import plan_set_status
from recovery.clock import clinic_today
from recovery.models import Protocol, RecoveryPlan
from tests.factories import PASSWORD, ClinicianFactory, PatientFactory, make_plan


@pytest.fixture
def returning(patient, clinician):
    """Alice ran in the spring; her plan is complete (discharged)."""
    plan = make_plan(patient, days_since_race=200, clinician=clinician)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.COMPLETED, today=clinic_today())
    return plan


def new_plan_url(patient):
    return f"/front-desk/patients/{patient.pk}/new-plan/"


def new_plan_data(days_ago=1, **changes):
    data = {
        "race_date": (clinic_today() - datetime.timedelta(days=days_ago)).isoformat(),
        "protocol": Protocol.objects.default().pk,
        "clinician": "",
    }
    data.update(changes)
    return data


def test_a_returning_runner_gets_a_new_plan_and_keeps_their_password(desk, patient, returning, clinician):
    page = unescape(desk.get(f"/front-desk/patients/{patient.pk}/").text)
    assert "No open plan. Coming back after another race?" in page
    assert f'href="{new_plan_url(patient)}">Start a new plan</a>' in page

    form = unescape(desk.get(new_plan_url(patient)).text)
    assert "they log in as before, with alice@example.com" in form
    assert f'<option value="{clinician.pk}" selected>' in form  # the clinician who knows her
    assert AuditEvent.objects.filter(action=Action.VIEW, patient=patient, description="new plan form").exists()

    response = desk.post(new_plan_url(patient), new_plan_data(days_ago=1, clinician=clinician.pk), follow=True)

    new = RecoveryPlan.objects.get(patient=patient, status=RecoveryPlan.Status.ACTIVE)
    assert new.pk != returning.pk
    assert new.race_date == clinic_today() - datetime.timedelta(days=1)
    assert new.clinician == clinician
    assert new.steps.count() == Protocol.objects.default().steps.count()
    returning.refresh_from_db()
    assert returning.status == RecoveryPlan.Status.COMPLETED  # her history stays as it was
    assert response.redirect_chain[-1][0] == f"/front-desk/patients/{patient.pk}/?enrolled=1"
    page = unescape(response.text)
    assert f"{patient.get_full_name()} has a new plan from race day {new.race_date:%-d %b %Y}." in page
    assert "autofocus>Print the welcome sheet</a>" in page
    assert AuditEvent.objects.filter(action=Action.CREATE, patient=patient, description="new plan").exists()
    assert mail.outbox == []  # she has a password: no invitation
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)

    sheet = unescape(desk.get(f"/front-desk/patients/{patient.pk}/welcome/").text)
    assert f"Welcome back, {patient.get_full_name()}" in sheet
    assert f"starts from your race on {new.race_date:%A %-d %B %Y}" in sheet
    assert "with your e-mail address, alice@example.com, and the password you chose" in sheet


def test_the_patient_sees_the_new_plan_at_once(desk, client, patient, returning):
    desk.post(new_plan_url(patient), new_plan_data(days_ago=2))
    client.force_login(patient)
    page = unescape(client.get("/today/").text)
    assert "Day 2 after your race" in page


def test_a_patient_who_never_chose_a_password_gets_a_new_invitation_with_the_plan(
    desk, returning, django_capture_on_commit_callbacks
):
    patient = returning.patient
    patient.set_unusable_password()
    patient.invited_at = timezone.now() - datetime.timedelta(days=200)  # that link died long ago
    patient.save()
    form = unescape(desk.get(new_plan_url(patient)).text)
    assert "they have not chosen a password yet, so a new invitation goes to alice@example.com" in form

    with django_capture_on_commit_callbacks(execute=True):
        desk.post(new_plan_url(patient), new_plan_data())

    assert [message.to for message in mail.outbox] == [["alice@example.com"]]
    patient.refresh_from_db()
    assert patient.invited_at > timezone.now() - datetime.timedelta(minutes=1)


def test_an_open_plan_is_a_clinicians_to_end(desk, patient, plan):
    page = unescape(desk.get(new_plan_url(patient)).text)
    assert f"already has an open plan, from race day {plan.race_date:%-d %b %Y}." in page
    assert "Start the new plan" not in page

    response = desk.post(new_plan_url(patient), new_plan_data(), follow=True)

    assert "Only a clinician can end a plan: ask one to re-enrol them from it in the admin." in unescape(response.text)
    assert list(RecoveryPlan.objects.filter(patient=patient)) == [plan]


def test_a_switched_off_account_gets_no_plan(desk, patient, returning):
    patient.is_active = False
    patient.save()
    assert "This account is switched off. Switch it back on" in unescape(desk.get(new_plan_url(patient)).text)

    response = desk.post(new_plan_url(patient), new_plan_data(), follow=True)

    assert "Switch it back on before starting a new plan." in unescape(response.text)
    assert not RecoveryPlan.objects.filter(patient=patient).open().exists()


@pytest.mark.parametrize(
    ("days_ago", "problem"),
    [
        (200, "Their last plan started from a race on {last}. A new plan is for a later race: check the date."),
        (220, "Their last plan started from a race on {last}. A new plan is for a later race: check the date."),
        (-3, "The race date is in the future. A plan starts on race day: choose the day they ran."),
    ],
)
def test_a_wrong_race_date_is_refused_in_plain_words(desk, patient, returning, days_ago, problem):
    response = desk.post(new_plan_url(patient), new_plan_data(days_ago=days_ago))

    assert response.status_code == 200
    assert problem.format(last=f"{returning.race_date:%-d %b %Y}") in unescape(response.text)
    assert not RecoveryPlan.objects.filter(patient=patient).open().exists()


def test_a_second_click_starts_one_plan(desk, patient, returning):
    desk.post(new_plan_url(patient), new_plan_data())
    response = desk.post(new_plan_url(patient), new_plan_data(), follow=True)

    assert "already has an open plan" in unescape(response.text)
    assert RecoveryPlan.objects.filter(patient=patient).open().count() == 1


def test_only_patients_get_plans_at_the_desk(desk):
    staff = ClinicianFactory()
    assert desk.get(new_plan_url(staff)).status_code == 404
    assert desk.post(new_plan_url(staff), new_plan_data()).status_code == 404
    assert not RecoveryPlan.objects.filter(patient=staff).exists()


def test_enrolling_a_returning_patients_address_points_to_their_page(desk, patient, returning):
    data = {
        "first_name": "Alice",
        "last_name": "Again",
        "email": "ALICE@example.com",
        "race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(),
        "protocol": Protocol.objects.default().pk,
    }
    page = unescape(desk.post("/front-desk/enroll/", data).text)

    assert (
        f'<a href="/front-desk/patients/{patient.pk}/">{patient.get_full_name()}</a> already has an account with this '
        "e-mail address. Open their page to start a new plan or correct their details."
    ) in page
    assert not RecoveryPlan.objects.filter(patient=patient).open().exists()


def test_a_staff_address_is_not_named_at_the_desk(desk):
    staff = ClinicianFactory(email="physio.two@example.com", first_name="Fox")
    data = {
        "first_name": "Fox",
        "last_name": "Mulder",
        "email": staff.email,
        "race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(),
        "protocol": Protocol.objects.default().pk,
    }
    page = unescape(desk.post("/front-desk/enroll/", data).text)

    assert STAFF_EMAIL in page and "Search for them" not in page  # the front desk's search finds patients only
    assert f"/front-desk/patients/{staff.pk}/" not in page and "Fox" not in page.split("<form", 1)[0]
    assert PatientFactory._meta.model.objects.filter(email=staff.email).count() == 1


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"race_date": "31/02/2026"}, "Enter the race date as a date, e.g. 26/04/2026."),
        ({"race_date": ""}, "Enter the date of the race."),
        ({"protocol": "x'; DROP"}, "Choose a plan from the list."),
        ({"clinician": "99999999999999999999"}, "Choose a clinician from the list."),
    ],
)
def test_bad_input_gets_a_plain_answer(desk, patient, returning, changes, problem):
    response = desk.post(new_plan_url(patient), new_plan_data(**changes))

    assert response.status_code == 200
    assert problem in unescape(response.text)
    assert not RecoveryPlan.objects.filter(patient=patient).open().exists()


def test_the_race_date_of_the_last_enrolment_is_offered_when_it_is_after_the_last_plans_race(desk, patient, returning):
    session = desk.session
    session["frontdesk_last_race_date"] = (clinic_today() - datetime.timedelta(days=1)).isoformat()
    session.save()
    form = desk.get(new_plan_url(patient)).context["form"]
    assert form["race_date"].value() == clinic_today() - datetime.timedelta(days=1)

    session["frontdesk_last_race_date"] = returning.race_date.isoformat()  # her spring race: not offered again
    session.save()
    assert desk.get(new_plan_url(patient)).context["form"]["race_date"].value() is None


def test_search_shows_who_has_no_open_plan(desk, patient, returning, other_patient):
    current = make_plan(other_patient, days_since_race=3)

    page = unescape(desk.get("/front-desk/", {"q": "example.com"}).text)

    assert f"From race day {current.race_date:%-d %b %Y}" in page
    assert "None open" in page  # Alice, back after another race

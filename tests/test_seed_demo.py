"""`manage.py seed_demo`: demo accounts that work, safe to run twice, never in production."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.roles import Role
from recovery.models import CheckIn, Completion, PlanStep, RecoveryPlan

DEMO_PASSWORD = "demo recovery password"
DEMO_ACCOUNTS = {
    "clinician@apex.test": Role.CLINICIAN,
    "reception@apex.test": Role.RECEPTION,
    "patient@apex.test": Role.PATIENT,
    "patient2@apex.test": Role.PATIENT,
    "returning@apex.test": Role.PATIENT,
}


@pytest.fixture
def debug_on(settings, db):
    # pytest-django runs tests with DEBUG off; seed_demo is for a developer's machine, where it is on.
    settings.DEBUG = True


def seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def can_log_in(client, email, password):
    client.logout()
    client.post("/accounts/login/", {"username": email, "password": password})
    return client.session.get("_auth_user_id") is not None


@pytest.mark.usefixtures("debug_on")
def test_it_creates_the_five_demo_accounts_with_their_roles():
    seed(password=DEMO_PASSWORD)
    users = {user.email: user for user in User.objects.filter(email__in=DEMO_ACCOUNTS)}
    assert set(users) == set(DEMO_ACCOUNTS)
    for email, role in DEMO_ACCOUNTS.items():
        assert list(users[email].groups.values_list("name", flat=True)) == [role], email
    assert users["clinician@apex.test"].is_staff
    assert not any(users[email].is_staff for email in DEMO_ACCOUNTS if email != "clinician@apex.test")
    assert not any(user.is_superuser for user in users.values())


@pytest.mark.usefixtures("debug_on")
def test_every_demo_account_logs_in_with_the_given_password_and_lands_at_home(client):
    output = seed(password=DEMO_PASSWORD)
    for email in DEMO_ACCOUNTS:
        assert f"{email}" in output
        assert can_log_in(client, email, DEMO_PASSWORD), email
        assert not can_log_in(client, email, "some other password"), email
    client.logout()
    client.post("/accounts/login/", {"username": "clinician@apex.test", "password": DEMO_PASSWORD})
    assert client.get("/", follow=True).request["PATH_INFO"] == "/admin/"


@pytest.mark.usefixtures("debug_on")
def test_both_demo_patients_get_a_plan_and_the_first_has_some_history():
    seed(password=DEMO_PASSWORD)
    first = RecoveryPlan.objects.open().get(patient__email="patient@apex.test")
    second = RecoveryPlan.objects.open().get(patient__email="patient2@apex.test")
    assert first.clinician.email == second.clinician.email == "clinician@apex.test"
    assert PlanStep.objects.filter(plan=first).count() == first.protocol.steps.count()
    assert CheckIn.objects.filter(plan=first).exists()
    assert Completion.objects.filter(plan=first).exists()
    assert first.note_to_patient.startswith("Well done on the first days.")  # the demo shows a clinician's note
    assert first.started_on == first.race_date  # its history is its own: enrolled on race day
    assert not CheckIn.objects.filter(plan=second).exists()


@pytest.mark.usefixtures("debug_on")
def test_the_returning_runner_has_only_a_completed_plan_for_reception_to_follow(client):
    seed(password=DEMO_PASSWORD)
    assert list(RecoveryPlan.objects.filter(patient__email="returning@apex.test").values_list("status", flat=True)) == [
        RecoveryPlan.Status.COMPLETED
    ]
    client.post("/accounts/login/", {"username": "reception@apex.test", "password": DEMO_PASSWORD})
    returning = User.objects.get(email="returning@apex.test")
    assert "Start a new plan" in client.get(f"/front-desk/patients/{returning.pk}/").text


@pytest.mark.usefixtures("debug_on")
def test_running_it_twice_creates_no_duplicates():
    seed(password=DEMO_PASSWORD)
    counts = (
        User.objects.count(),
        RecoveryPlan.objects.count(),
        PlanStep.objects.count(),
        CheckIn.objects.count(),
        Completion.objects.count(),
    )
    seed(password=DEMO_PASSWORD)
    again = (
        User.objects.count(),
        RecoveryPlan.objects.count(),
        PlanStep.objects.count(),
        CheckIn.objects.count(),
        Completion.objects.count(),
    )
    assert again == counts
    assert RecoveryPlan.objects.filter(patient__email__in=DEMO_ACCOUNTS).count() == 3
    for email in DEMO_ACCOUNTS:
        assert User.objects.get(email=email).groups.count() == 1


@pytest.mark.usefixtures("debug_on")
def test_running_it_again_with_a_new_password_resets_the_demo_logins(client):
    seed(password=DEMO_PASSWORD)
    seed(password="another demo password")
    assert can_log_in(client, "patient@apex.test", "another demo password")
    assert not can_log_in(client, "patient@apex.test", DEMO_PASSWORD)


def test_it_refuses_to_run_with_debug_off(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        seed(password=DEMO_PASSWORD)
    assert not User.objects.filter(email__in=DEMO_ACCOUNTS).exists()


@pytest.mark.usefixtures("debug_on")
@pytest.mark.parametrize("weak", ["short", "password1234"])
def test_it_refuses_a_weak_password(weak):
    with pytest.raises(CommandError, match="too weak"):
        seed(password=weak)
    assert not User.objects.filter(email__in=DEMO_ACCOUNTS).exists()


@pytest.mark.usefixtures("debug_on")
def test_without_a_password_it_prints_a_generated_one_that_works(client):
    output = seed()
    printed = set(re.findall(r"password: (\S+)", output))
    assert len(printed) == 1, output
    (password,) = printed
    assert len(password) >= 12
    for email in DEMO_ACCOUNTS:
        assert can_log_in(client, email, password), email


@pytest.mark.usefixtures("debug_on")
def test_each_run_without_a_password_generates_a_new_one():
    first = re.search(r"password: (\S+)", seed())[1]
    second = re.search(r"password: (\S+)", seed())[1]
    assert first != second
    assert User.objects.get(email="patient@apex.test").check_password(second)

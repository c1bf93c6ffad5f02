"""The two lookups every signed-in request makes, written as SQL (clinic/sql.py): the signed-in user and a
patient's open plan. They must give back what the ORM would, field for field, and sign people out as before."""

import pytest
from django.utils import timezone

from accounts.backends import EmailBackend
from accounts.models import User
from accounts.roles import Role
from recovery.models import RecoveryPlan
from tests.factories import ClinicianFactory, PatientFactory, make_plan

pytestmark = pytest.mark.django_db

EMAIL_BACKEND = "accounts.backends.EmailBackend"  # what a sign-in through the login form stores in the session


def fields_of(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_signed_in_user_is_the_user_the_orm_reads():
    user = PatientFactory(first_name="Ann", invited_at=timezone.now())
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    found = User.objects.signed_in(user.pk)
    assert fields_of(found) == fields_of(User.objects.get(pk=user.pk))
    # Date-times come back aware, as the ORM makes them, on SQLite too (which stores them as text).
    assert timezone.is_aware(found.last_login) and timezone.is_aware(found.date_joined)
    assert found._state.adding is False and found._state.db == "default"
    assert User.objects.signed_in(user.pk + 1000) is None


def test_the_open_plan_is_the_plan_the_orm_reads():
    plan = make_plan(clinician=ClinicianFactory())
    found = RecoveryPlan.objects.open_plan_of_member(plan.patient, Role.PATIENT)
    assert fields_of(found) == fields_of(RecoveryPlan.objects.get(pk=plan.pk))
    assert timezone.is_aware(found.created_at)
    assert found.patient == plan.patient  # relations load as usual


def test_the_backend_refuses_an_account_switched_off():
    user = PatientFactory()
    assert EmailBackend().get_user(user.pk) == user
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert EmailBackend().get_user(user.pk) is None
    assert EmailBackend().get_user(user.pk + 1000) is None


def test_a_signed_in_patient_is_signed_out_when_switched_off_or_the_password_changes(client):
    patient = PatientFactory()
    make_plan(patient)
    client.force_login(patient, backend=EMAIL_BACKEND)
    assert client.get("/today/").status_code == 200
    User.objects.filter(pk=patient.pk).update(is_active=False)
    assert client.get("/today/")["Location"].startswith("/accounts/login/")

    User.objects.filter(pk=patient.pk).update(is_active=True)
    client.force_login(patient, backend=EMAIL_BACKEND)
    assert client.get("/today/").status_code == 200
    patient.set_password("a-new-password-2026")
    patient.save()
    assert client.get("/today/")["Location"].startswith("/accounts/login/")

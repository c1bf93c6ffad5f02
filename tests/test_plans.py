"""Plans: enrolment copies the protocol's steps; the database keeps one open plan per patient."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from accounts.roles import Role
from recovery.clock import clinic_today
from recovery.models import Completion, PlanStep, Protocol, ProtocolStep, RecoveryPlan
from recovery.services import plan_enrol
from tests.factories import ClinicianFactory, PatientFactory, make_plan

pytestmark = pytest.mark.django_db


def test_enrolment_copies_every_protocol_step_with_its_key_and_rules():
    protocol = Protocol.objects.default()
    clinician = ClinicianFactory()
    plan = plan_enrol(patient=PatientFactory(), protocol=protocol, race_date=clinic_today(), clinician=clinician)
    copied = list(plan.steps.order_by("position").values_list("key", "first_day", "last_day", "doses_per_day"))
    original = list(protocol.steps.order_by("position").values_list("key", "first_day", "last_day", "doses_per_day"))
    assert copied == original
    assert plan.clinician == clinician and plan.status == RecoveryPlan.Status.ACTIVE


def test_changing_the_protocol_later_leaves_existing_plans_alone():
    plan = make_plan()
    ProtocolStep.objects.filter(key="ice").update(doses_per_day=5)
    assert plan.steps.get(key="ice").doses_per_day == 3


def test_tailoring_one_plan_leaves_other_patients_alone():
    mine, theirs = make_plan(), make_plan()
    PlanStep.objects.filter(plan=mine, key="ice").update(doses_per_day=4)
    assert theirs.steps.get(key="ice").doses_per_day == 3


def test_the_database_refuses_a_second_open_plan_for_a_patient():
    plan = make_plan()
    with pytest.raises(IntegrityError), transaction.atomic():
        RecoveryPlan.objects.create(patient=plan.patient, protocol=plan.protocol, race_date=plan.race_date)


def test_a_completed_plan_makes_room_for_a_new_one():
    plan = make_plan()
    plan.status = RecoveryPlan.Status.COMPLETED
    plan.save()
    again = make_plan(plan.patient)
    assert RecoveryPlan.objects.open().get(patient=plan.patient) == again


def test_the_database_keeps_one_tick_row_per_step_and_day():
    plan = make_plan()
    Completion.objects.create(plan=plan, step_key="ice", date=clinic_today(), count=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Completion.objects.create(plan=plan, step_key="ice", date=clinic_today(), count=2)


def test_the_database_refuses_a_step_whose_last_day_is_before_its_first():
    plan = make_plan()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanStep.objects.filter(plan=plan, key="ice").update(first_day=5, last_day=2)


def test_day_numbers_count_from_race_day():
    plan = make_plan(days_since_race=0)
    assert plan.day_number(plan.race_date) == 0
    assert plan.day_number(plan.race_date + datetime.timedelta(days=2)) == 2


@pytest.mark.parametrize("status", list(RecoveryPlan.Status))
@pytest.mark.parametrize("is_patient", [True, False])
def test_the_patients_pages_find_their_own_open_plan_and_only_as_patients(status, is_patient):
    mine, _theirs = make_plan(), make_plan()
    paused_on = mine.race_date if status == RecoveryPlan.Status.PAUSED else None
    RecoveryPlan.objects.filter(pk=mine.pk).update(status=status, paused_on=paused_on)
    if not is_patient:
        mine.patient.groups.clear()
    found = RecoveryPlan.objects.open_plan_of_member(mine.patient, Role.PATIENT)
    assert found == (mine if is_patient and status != RecoveryPlan.Status.COMPLETED else None)
    # The hand-written query answers as the ORM's would.
    assert found == RecoveryPlan.objects.open().filter(patient=mine.patient, patient__groups__name=Role.PATIENT).first()


@pytest.mark.parametrize(
    "change",
    [
        {"gate": "pain", "gate_pain_max": None},  # the pain gate would compare a score with nothing: a 500 on Today
        {"first_day": 731},  # a date past what the pages can show
        {"last_day": 5000},
    ],
)
def test_the_database_refuses_a_step_the_rules_cannot_read(change):
    # What the admin's forms refuse, refused again where a shell, a script or a data migration writes.
    plan = make_plan()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanStep.objects.filter(plan=plan, key="stretch").update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProtocolStep.objects.filter(key="stretch").update(**change)

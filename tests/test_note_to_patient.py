"""A clinician's note to one patient: written on the patient's page in the admin, read on the patient's Today page."""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from recovery.clock import clinic_today
from recovery.models import RecoveryPlan
from tests.admin_forms import form_data
from tests.factories import ClinicianFactory, ReceptionFactory, make_plan

pytestmark = pytest.mark.django_db

NOTE = "Keep icing twice a day until Friday.\nWe'll look at the stretches at your visit <b>on Monday</b>."


def plan_page(plan):
    return reverse("admin:recovery_recoveryplan_change", args=[plan.pk])


def write_note(clinician_client, plan, note):
    data = form_data(clinician_client.get(plan_page(plan)))
    data["note_to_patient"] = note
    return clinician_client.post(plan_page(plan), data)


def test_the_clinicians_note_is_at_the_top_of_the_patients_today_page(clinician_client, patient_client, patient):
    plan = make_plan(patient)
    assert "data-note-to-patient" not in patient_client.get("/today/").content.decode()
    assert write_note(clinician_client, plan, NOTE).status_code == 302
    html = patient_client.get("/today/").content.decode()
    assert "A note from your clinician" in html
    # The clinician's words as written: line breaks kept, markup shown as text, not obeyed.
    assert "Keep icing twice a day until Friday.<br>We&#x27;ll look at the stretches at your visit &lt;b&gt;" in html
    assert html.index("data-note-to-patient") < html.index('data-task="')


def test_emptying_the_note_takes_it_off_the_page(clinician_client, patient_client, patient):
    plan = make_plan(patient)
    write_note(clinician_client, plan, NOTE)
    write_note(clinician_client, plan, "")
    assert "data-note-to-patient" not in patient_client.get("/today/").content.decode()


def test_a_note_over_1000_characters_is_refused_in_plain_words_and_the_old_one_kept(clinician_client, patient):
    plan = make_plan(patient)
    write_note(clinician_client, plan, NOTE)
    response = write_note(clinician_client, plan, "x" * 1001)
    assert response.status_code == 200
    assert "Ensure this value has at most 1000 characters (it has 1001)." in response.content.decode()
    plan.refresh_from_db()
    assert plan.note_to_patient == NOTE


def test_only_that_patient_reads_the_note(clinician_client, patient, other_patient):
    write_note(clinician_client, make_plan(patient), NOTE)
    make_plan(other_patient)
    other = Client()
    other.force_login(other_patient)
    assert "Keep icing twice a day" not in other.get("/today/").content.decode()


def test_reception_never_sees_the_note(clinician_client, patient):
    write_note(clinician_client, make_plan(patient), NOTE)
    desk = Client()
    desk.force_login(ReceptionFactory())
    page = desk.get(reverse("frontdesk:patient", args=[patient.pk]))
    assert page.status_code == 200
    assert "Keep icing twice a day" not in page.content.decode()


def test_the_note_is_in_the_patients_own_data_download(clinician_client, patient_client, patient):
    write_note(clinician_client, make_plan(patient), NOTE)
    plans = json.loads(patient_client.get("/account/my-data.json").content)["plans"]
    assert plans[0]["note_to_patient"] == RecoveryPlan.objects.get(patient=patient).note_to_patient
    assert "Keep icing twice a day" in plans[0]["note_to_patient"]


def test_the_visit_summary_shows_the_note(clinician_client, patient):
    plan = make_plan(patient)
    write_note(clinician_client, plan, NOTE)
    html = clinician_client.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk])).content.decode()
    assert "Note to the patient: Keep icing twice a day until Friday." in html


def test_the_patient_reads_when_the_note_was_written(clinician_client, patient_client, patient):
    """Undated, "back to your plan from today: take it gently" was still on Today three weeks later."""
    plan = make_plan(patient)
    write_note(clinician_client, plan, NOTE)
    assert "A note from your clinician, written today" in patient_client.get("/today/").text
    plan.refresh_from_db()
    assert plan.note_to_patient_on == clinic_today()
    written = datetime.date(2026, 11, 9)
    RecoveryPlan.objects.filter(pk=plan.pk).update(note_to_patient_on=written)
    assert "A note from your clinician, written on Monday 9 November" in patient_client.get("/today/").text
    data = form_data(clinician_client.get(plan_page(plan)))
    colleague = ClinicianFactory()
    clinician_client.post(plan_page(plan), {**data, "clinician": colleague.pk})  # another change, the note as it was
    plan.refresh_from_db()
    assert plan.clinician == colleague and plan.note_to_patient_on == written
    write_note(clinician_client, plan, "")
    plan.refresh_from_db()
    assert plan.note_to_patient_on is None


def test_the_clinician_sees_the_date_the_patient_reads_the_note_under(clinician_client, patient):
    plan = make_plan(patient)
    write_note(clinician_client, plan, NOTE)
    RecoveryPlan.objects.filter(pk=plan.pk).update(note_to_patient_on=datetime.date(2026, 11, 9))
    assert "The patient sees this note as written on Monday 9 November." in clinician_client.get(plan_page(plan)).text
    RecoveryPlan.objects.filter(pk=plan.pk).update(note_to_patient_on=None)  # written before dates were kept
    assert "The patient sees this note without a date" in clinician_client.get(plan_page(plan)).text

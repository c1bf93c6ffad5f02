"""/tips/ and /account/: the clinic's tips, and the patient's own data."""

import csv
import datetime
import io
import json

import pytest

from recovery.clock import clinic_today
from recovery.models import Disclaimer, Tip
from tests.factories import CheckInFactory, ClinicianFactory, CompletionFactory, make_plan

pytestmark = pytest.mark.django_db


def test_tips_lists_published_tips_by_kind_with_the_disclaimer(patient_client):
    Tip.objects.filter(slug="compression").update(published=False)
    html = patient_client.get("/tips/").content.decode()
    recovery, prevention = html.split("Preventing the next injury")
    assert "Ice Therapy" in recovery and "Warming up properly" in prevention
    assert "Compression" not in html
    assert Disclaimer.current() in html


def test_a_tip_page_shows_its_text_and_the_disclaimer(patient_client):
    tip = Tip.objects.get(slug="ice-therapy")
    html = patient_client.get(f"/tips/{tip.slug}/").content.decode()
    assert tip.title in html and "15 to 20 minutes" in html
    assert "medical professional" in html


def test_an_unpublished_or_unknown_tip_is_404(patient_client):
    Tip.objects.filter(slug="compression").update(published=False)
    assert patient_client.get("/tips/compression/").status_code == 404
    assert patient_client.get("/tips/no-such-tip/").status_code == 404


def test_staff_are_sent_home_from_the_patient_tips(client):
    client.force_login(ClinicianFactory())
    assert client.get("/tips/").status_code == 302


def test_the_account_page_links_to_password_change_and_downloads(patient_client):
    html = patient_client.get("/account/").content.decode()
    assert "/accounts/password/" in html and "my-data.json" in html and "my-data.csv" in html


def _my_history(patient):
    plan = make_plan(patient, days_since_race=3)
    CompletionFactory(plan=plan, step_key="ice", count=2)
    CheckInFactory(plan=plan, pain=4, note="stiff after the stairs")
    return plan


def test_my_data_json_holds_everything_the_portal_keeps_about_me(patient_client, patient):
    plan = _my_history(patient)
    response = patient_client.get("/account/my-data.json")
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["profile"][0]["email"] == patient.email
    assert data["plans"][0]["race_date"] == plan.race_date.isoformat()
    assert data["plans"][0]["protocol_name"] == plan.protocol.name  # plain field names, not the ORM's
    assert {row["key"] for row in data["plan_steps"]} >= {"ice", "rest", "stretch"}
    assert data["ticks"] == [{"plan_id": plan.pk, "date": clinic_today().isoformat(), "step_key": "ice", "count": 2}]
    assert data["check_ins"][0]["note"] == "stiff after the stairs"
    assert "alerts" in data


def test_my_data_csv_holds_the_same_rows(patient_client, patient):
    _my_history(patient)
    response = patient_client.get("/account/my-data.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {"section": "check_ins", "row": "1", "field": "note", "value": "stiff after the stairs"} in rows
    assert {"section": "ticks", "row": "1", "field": "count", "value": "2"} in rows


def test_my_data_never_includes_another_patients_data(patient_client, patient, other_patient):
    _my_history(patient)
    theirs = make_plan(other_patient, days_since_race=2)
    CheckInFactory(plan=theirs, pain=7, note="charlie's secret", date=clinic_today() - datetime.timedelta(days=1))
    body = (
        patient_client.get("/account/my-data.json").content.decode()
        + patient_client.get("/account/my-data.csv").content.decode()
    )
    assert "charlie" not in body.lower()

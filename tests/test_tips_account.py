"""/tips/ and /account/: the clinic's tips, and the patient's own data."""

import csv
import datetime
import io
import json

import pytest
from django.test.utils import override_settings

from recovery.clock import clinic_today
from recovery.models import CheckIn, Disclaimer, Tip
from tests.factories import CheckInFactory, ClinicianFactory, CompletionFactory, make_plan
from tests.test_today import current_links

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


def test_on_a_tip_the_menus_tips_is_marked_as_the_section_and_on_the_list_as_the_page(patient_client):
    tip = Tip.objects.published().first()
    assert current_links(patient_client.get(f"/tips/{tip.slug}/").content.decode()) == [("true", "Tips")]
    assert current_links(patient_client.get("/tips/").content.decode()) == [("page", "Tips")]


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


@override_settings(TIME_ZONE="Europe/London")
def test_my_data_gives_times_in_the_clinics_local_time_and_says_which(patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    summer_morning = datetime.datetime(2026, 6, 10, 8, 10, tzinfo=datetime.UTC)  # 09:10 in London (summer time)
    just_after_midnight = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)  # 1 July, 00:30 in London
    CheckInFactory(plan=plan, date=datetime.date(2026, 6, 10))
    CheckInFactory(plan=plan, date=datetime.date(2026, 7, 1))
    CheckIn.objects.filter(date=datetime.date(2026, 6, 10)).update(updated_at=summer_morning)
    CheckIn.objects.filter(date=datetime.date(2026, 7, 1)).update(updated_at=just_after_midnight)
    data = json.loads(patient_client.get("/account/my-data.json").content)
    times = [row["updated_at"] for row in data["check_ins"]]
    assert times == ["2026-06-10 09:10:00+01:00", "2026-07-01 00:30:00+01:00"]
    # In winter too the clinic's time, written with its offset: not "…Z", which reads as UTC.
    winter_morning = datetime.datetime(2026, 11, 27, 5, 50, 38, 678328, tzinfo=datetime.UTC)
    CheckIn.objects.filter(date=datetime.date(2026, 6, 10)).update(updated_at=winter_morning)
    data = json.loads(patient_client.get("/account/my-data.json").content)
    assert data["check_ins"][0]["updated_at"] == "2026-11-27 05:50:38+00:00"
    assert "the clinic's local time (Europe/London)" in data["about"][0]["times"]
    rows = list(csv.reader(io.StringIO(patient_client.get("/account/my-data.csv").content.decode("utf-8-sig"))))
    assert ["check_ins", "2", "updated_at", "2026-07-01 00:30:00+01:00"] in rows
    assert next(row for row in rows if row[0] == "about")[3].startswith("All times are the clinic's local time")


def test_my_data_never_includes_another_patients_data(patient_client, patient, other_patient):
    _my_history(patient)
    theirs = make_plan(other_patient, days_since_race=2)
    CheckInFactory(plan=theirs, pain=7, note="charlie's secret", date=clinic_today() - datetime.timedelta(days=1))
    body = (
        patient_client.get("/account/my-data.json").content.decode()
        + patient_client.get("/account/my-data.csv").content.decode()
    )
    assert "charlie" not in body.lower()

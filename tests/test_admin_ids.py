"""An admin address edited by hand is a 404 or the list without the bad filter, never a server error
(clinic/admin_site.py)."""

import uuid

import pytest
from django.test import Client

from recovery.models import Tip
from tests.factories import make_plan

HUGE = "99999999999999999999"


def test_a_model_keyed_by_a_uuid_keeps_djangos_own_answer(superuser):
    # The task queue's results: a UUID is no whole number, and Django's page already says the record isn't there.
    client = Client()
    client.force_login(superuser)
    response = client.get(f"/admin/django_tasks_database/dbtaskresult/{uuid.uuid4()}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.parametrize(
    "address",
    [
        "/admin/recovery/tip/abc/history/",
        "/admin/recovery/tip/1/history/abc/",
        f"/admin/recovery/tip/{HUGE}/history/",
        "/admin/recovery/tip/1%00/change/",
        "/admin/recovery/protocol/abc/change/",
        f"/admin/recovery/protocol/{HUGE}/change/",
        f"/admin/recovery/recoveryplan/{HUGE}/visit-summary/",
        f"/admin/reminders/remindersettings/{HUGE}/change/",  # keyed by its patient
        "/admin/recovery/disclaimer/-1/history/",
    ],
)
def test_an_id_that_is_not_a_whole_number_is_a_404(clinician_client, address):
    assert clinician_client.get(address).status_code == 404


def test_a_revert_of_an_id_that_is_not_one_is_a_404(clinician_client):
    tip = Tip.objects.first()
    assert clinician_client.post(f"/admin/recovery/tip/abc/history/{tip.pk}/revert/").status_code == 404


def test_real_ids_still_open_their_pages(clinician_client):
    tip = Tip.objects.first()
    assert clinician_client.get(f"/admin/recovery/tip/{tip.pk}/change/").status_code == 200
    assert clinician_client.get(f"/admin/recovery/tip/{tip.pk}/history/").status_code == 200


@pytest.mark.parametrize("selected", ["abc", "1\x00", HUGE])
def test_an_action_for_rows_that_are_not_ids_is_a_404_and_exports_nothing(clinician_client, selected):
    make_plan()
    response = clinician_client.post(
        "/admin/recovery/recoveryplan/", {"action": "export_adherence", "_selected_action": [selected]}
    )
    assert response.status_code == 404 and "text/csv" not in response["Content-Type"]


def test_a_year_no_calendar_holds_in_the_lists_drill_down_drops_the_filter(clinician_client):
    make_plan()
    response = clinician_client.get(f"/admin/recovery/checkin/?date__year={HUGE}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_a_two_factor_device_that_is_not_there_is_a_404(superuser):
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/otp_totp/totpdevice/999999/config/").status_code == 404


def whole_number_keyed_admins():
    from django.contrib import admin
    from django.db import models

    for model in admin.site._registry:
        key = model._meta.pk.target_field if model._meta.pk.is_relation else model._meta.pk
        if isinstance(key, models.IntegerField):
            yield f"/admin/{model._meta.app_label}/{model._meta.model_name}/"


def test_every_admin_list_and_record_page_answers_a_bad_id_with_a_404(superuser):
    # Every model the admin shows, ours and the libraries' (axes, django-otp, auth), as the one who may open all.
    client = Client()
    client.force_login(superuser)
    lists = list(whole_number_keyed_admins())
    assert len(lists) > 10
    for address in lists:
        for selected in ("abc", HUGE):
            sent = client.post(address, {"action": "delete_selected", "_selected_action": [selected]})
            assert sent.status_code == 404, (address, selected)
        for page in ("abc/change/", f"{HUGE}/delete/", "abc/history/"):
            assert client.get(address + page).status_code == 404, address + page


def test_a_libraries_list_drops_a_year_no_calendar_holds_too(superuser):
    client = Client()
    client.force_login(superuser)
    response = client.get(f"/admin/axes/accessattempt/?attempt_time__year={HUGE}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")

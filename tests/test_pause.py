"""A clinician puts a plan on hold (pause) and takes it off again (resume, or discharge): what the patient sees,
and days on hold never count against them."""

import datetime
import re

import pytest
from django.urls import reverse

from recovery.care import PAUSE_REASON, plan_set_status
from recovery.clock import clinic_today
from recovery.models import ExcusedDay, RecoveryPlan
from recovery.services import Refused
from tests.factories import make_plan
from tests.test_check_in import check_in, days_ago
from tests.test_progress import finish_day, stat

pytestmark = pytest.mark.django_db


def status_change(clinician_client, plan, status):
    return clinician_client.post(reverse("admin:recovery_plan_status", args=[plan.pk]), {"status": status})


def test_a_paused_plan_puts_today_on_hold_for_the_patient(clinician_client, patient_client, patient):
    plan = make_plan(patient, days_since_race=3)
    status_change(clinician_client, plan, "paused")
    plan.refresh_from_db()
    assert (plan.status, plan.paused_on) == ("paused", clinic_today())
    html = patient_client.get("/today/").content.decode()
    assert "Your plan is on hold." in html and "Days on hold don't count against your progress." in html
    assert "Keep this up while your plan is paused." in html  # rest and ice go on: not "on hold"
    assert "Mark as done" not in html and "Undo one" not in html  # no button that could only be refused
    assert "Not well enough today?" not in html
    assert 'href="/check-in/">tell us how your hip feels</a>' in html  # the check-in stays open
    exported = patient_client.get("/account/my-data.json").json()["plans"][0]
    assert (exported["status"], exported["paused_on"]) == ("paused", clinic_today().isoformat())


def test_on_hold_the_check_in_stays_open_and_counts_if_the_plan_is_resumed_that_day(patient_client, patient):
    plan = make_plan(patient, days_since_race=5)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    html = patient_client.get("/today/").content.decode()
    check_in_row = html[html.index('data-task="check-in"') :].split("</li>")[0]
    assert "On hold" not in check_in_row and "Do today's check-in" in check_in_row  # as the banner invites
    result = check_in(patient_client, pain="2")
    # The check-in's result says what the banner says, not "carry on with your plan".
    assert "Your plan is on hold." in result.text and "carry on with your plan" not in result.text
    summary = re.search(r'<p id="day-summary"[^>]*>(.*?)</p>', patient_client.get("/today/").text, re.S)[1]
    assert summary.strip() == "On hold."  # not "All 1 task done. Well done!" beside the pause's banner
    plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    html = patient_client.get("/today/").content.decode()
    check_in_row = html[html.index('data-task="check-in"') :].split("</li>")[0]
    count = re.search(r'<p class="task-count[^"]*"[^>]*>(.*?)</p>', check_in_row, re.S)[1]
    assert re.sub(r"<[^>]+>|✓", "", count).split() == ["Done"] and "See or change today's check-in" in check_in_row


def test_resuming_turns_the_days_on_hold_into_days_off_and_today_counts_again(patient):
    plan = make_plan(patient, days_since_race=6)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(3))
    ExcusedDay.objects.create(plan=plan, date=days_ago(2), reason="flu")  # the patient's own, kept as it is
    plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    assert plan.paused_on is None
    days_off = {day.date: (day.reason, day.on_hold) for day in ExcusedDay.objects.filter(plan=plan)}
    assert days_off == {
        days_ago(3): (PAUSE_REASON, True),
        days_ago(2): ("flu", False),
        days_ago(1): (PAUSE_REASON, True),
    }


def test_a_pause_taken_off_the_same_day_leaves_no_day_off(patient):
    plan = make_plan(patient)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    assert not ExcusedDay.objects.filter(plan=plan).exists()


def test_discharging_a_paused_plan_keeps_its_days_on_hold_as_days_off(patient):
    plan = make_plan(patient, days_since_race=6)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(2))
    plan_set_status(plan=plan, status=RecoveryPlan.Status.COMPLETED, today=clinic_today())
    assert (plan.status, plan.paused_on) == ("completed", None)
    assert ExcusedDay.objects.filter(plan=plan, reason=PAUSE_REASON).count() == 2


def test_re_enrolling_a_paused_patient_closes_the_pause_of_the_old_plan(clinician_client, patient):
    plan = make_plan(patient, days_since_race=6)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(1))
    response = clinician_client.post(
        reverse("admin:recovery_plan_reenrol", args=[plan.pk]),
        {"race_date": clinic_today().isoformat(), "protocol": plan.protocol_id},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.paused_on) == ("completed", None)
    assert ExcusedDay.objects.filter(plan=plan, reason=PAUSE_REASON).count() == 1


def test_a_resume_that_comes_second_says_what_the_plan_is_now(patient):
    plan = make_plan(patient, days_since_race=6)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(2))
    stale = RecoveryPlan.objects.get(pk=plan.pk)  # another clinician's page, opened while it was paused
    plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    with pytest.raises(Refused, match="This plan is active, so it cannot be made active."):
        plan_set_status(plan=stale, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    assert ExcusedDay.objects.filter(plan=plan).count() == 2  # the days on hold written once


def test_a_plan_cannot_be_paused_twice(patient):
    plan = make_plan(patient)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(2))
    with pytest.raises(Refused, match="This plan is paused, so it cannot be made paused."):
        plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    plan.refresh_from_db()
    assert plan.paused_on == days_ago(2)  # the pause still counts from its first day


def test_days_on_hold_do_not_lower_the_patients_progress(patient_client, patient):
    plan = make_plan(patient, days_since_race=2, enrolled_days_ago=2)
    finish_day(patient_client, plan, days_ago(2))  # race day, all done
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(1))
    response = patient_client.get("/progress/")
    assert stat(response, "week") == "100%" and stat(response, "overall") == "100%"
    on_hold = days_ago(1)
    assert f"Your plan has been on hold since {on_hold:%A} {on_hold.day} {on_hold:%B}" in response.content.decode()
    levels = dict(re.findall(r'data-date="([\d-]+)" data-level="(\w+)"', response.content.decode()))
    assert [levels[days_ago(n).isoformat()] for n in (2, 1, 0)] == ["full", "paused", "paused"]


def test_the_clinicians_page_says_since_when_the_plan_is_paused(clinician_client, patient):
    plan = make_plan(patient)
    status_change(clinician_client, plan, "paused")
    page = clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).content.decode()
    assert re.search(r"Paused since:</label>\s*<div class=\"readonly\">" + f"{clinic_today():%-d %b %Y}", page)
    assert f"· on hold since {clinic_today():%-d %b}</h2>" in page


def test_after_a_resume_the_days_on_hold_stay_on_hold_for_the_patient(patient_client, patient):
    plan = make_plan(patient, days_since_race=6, enrolled_days_ago=6)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=days_ago(2))
    plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    yesterday = patient_client.get("/today/?back=1").content.decode()
    assert "Your clinician had your plan on hold that day." in yesterday
    assert "Put this day back on my plan" not in yesterday and "Your plan is on hold." not in yesterday
    refused = patient_client.post(
        reverse("recovery:excuse"), {"date": days_ago(1).isoformat(), "undo": "1"}, follow=True
    ).content.decode()
    assert "Your clinician had your plan on hold that day, so it stays out of your progress." in refused
    assert ExcusedDay.objects.filter(plan=plan, on_hold=True).count() == 2
    levels = dict(
        re.findall(r'data-date="([\d-]+)" data-level="(\w+)"', patient_client.get("/progress/").content.decode())
    )
    assert [levels[days_ago(n).isoformat()] for n in (2, 1)] == ["paused", "paused"]  # as while it was paused
    assert "Your plan is on hold." not in patient_client.get("/today/").content.decode()  # today counts again


def test_a_pause_undone_the_same_day_does_not_hide_a_quiet_patient(patient):
    # Paused and resumed a moment later (a slip, or a change of mind): no day was on hold, so the week of silence
    # before it still counts, and the patient stays on the inactive lists.
    plan = make_plan(patient, days_since_race=12)
    quiet_from = clinic_today() - datetime.timedelta(days=6)
    RecoveryPlan.objects.filter(pk=plan.pk).update(last_activity_on=quiet_from)
    plan_set_status(plan=plan, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    plan_set_status(plan=plan, status=RecoveryPlan.Status.ACTIVE, today=clinic_today())
    assert plan.resumed_on is None and RecoveryPlan.objects.with_quiet_since().get(pk=plan.pk).quiet_since == quiet_from

"""The buttons under a plan's form (clear to run, pause, resume, discharge) post that form: what the clinician
typed above them is saved first, as Save saves it, never dropped."""

import datetime
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from audit.models import Action, AuditEvent
from recovery.clock import clinic_today
from recovery.models import RecoveryPlan
from tests.admin_forms import form_data
from tests.factories import make_plan

NOTE = "Rest until Friday, then we talk about the stretches."


@pytest.fixture
def plan(patient):
    return make_plan(patient, days_since_race=8)


def page_form(clinician_client, plan, **typed):
    data = form_data(clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])))
    data.update(typed)
    return data


def press(clinician_client, plan, button, data):
    return clinician_client.post(reverse(f"admin:recovery_plan_{button}", args=[plan.pk]), data, follow=True)


def test_a_note_typed_before_pause_is_saved_with_the_pause(clinician_client, plan):
    response = press(
        clinician_client, plan, "status", page_form(clinician_client, plan, note_to_patient=NOTE, status="paused")
    )

    plan.refresh_from_db()
    assert (plan.status, plan.note_to_patient) == (RecoveryPlan.Status.PAUSED, NOTE)
    page = unescape(response.text)
    assert "The plan is now paused." in page and "was changed successfully" in page
    history = [entry.get_change_message() for entry in LogEntry.objects.filter(object_id=str(plan.pk))]
    assert history == ["The plan is now paused.", f"Note to patient: “{NOTE}”."]  # each in History, latest first


def test_a_note_typed_before_clear_to_run_is_saved_too(clinician_client, plan):
    asked = press(clinician_client, plan, "sign_off", page_form(clinician_client, plan, note_to_patient=NOTE))
    plan.refresh_from_db()
    assert plan.note_to_patient == NOTE  # saved before the question (day 5 is early to clear: asked once more)
    assert "Clear to run" in asked.text and plan.cleared_to_run_on is None
    press(clinician_client, plan, "sign_off", {"confirmed": "1"})
    plan.refresh_from_db()
    assert plan.note_to_patient == NOTE and plan.cleared_to_run_on == clinic_today()


def test_discharge_saves_the_note_before_it_asks_to_be_sure(clinician_client, plan):
    response = press(
        clinician_client, plan, "status", page_form(clinician_client, plan, note_to_patient=NOTE, status="completed")
    )

    plan.refresh_from_db()
    assert plan.note_to_patient == NOTE
    assert plan.status == RecoveryPlan.Status.ACTIVE  # not before "Discharge" is pressed on the question's page
    assert f"Discharge {plan.patient}?" in unescape(response.text)


def test_a_typed_change_that_cannot_be_saved_stops_the_button_and_comes_back_as_typed(clinician_client, plan):
    future = (clinic_today() + datetime.timedelta(days=5)).strftime("%d/%m/%Y")
    data = page_form(clinician_client, plan, note_to_patient=NOTE, race_date=future, status="paused")

    response = press(clinician_client, plan, "status", data)

    assert response.status_code == 200
    page = unescape(response.text)
    assert "The race date is in the future." in page
    assert NOTE in page
    change_url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    assert f'action="{change_url}"' in page  # "Save" on this page saves, not pauses
    plan.refresh_from_db()
    assert plan.status == RecoveryPlan.Status.ACTIVE and plan.note_to_patient != NOTE


def test_nothing_typed_means_nothing_saved_but_the_pause(clinician_client, plan):
    before = LogEntry.objects.filter(object_id=str(plan.pk)).count()
    changes = AuditEvent.objects.filter(action=Action.CHANGE).count()

    press(clinician_client, plan, "status", page_form(clinician_client, plan, status="paused"))

    plan.refresh_from_db()
    assert plan.status == RecoveryPlan.Status.PAUSED
    assert LogEntry.objects.filter(object_id=str(plan.pk)).count() == before + 1  # the pause alone
    assert AuditEvent.objects.filter(action=Action.CHANGE).count() == changes + 1


def test_a_page_opened_before_a_colleagues_save_writes_back_only_its_own_changes(clinician_client, plan, clinician):
    change_url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    mine = page_form(clinician_client, plan)  # opened first, left open
    earlier = (plan.race_date - datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    colleague = page_form(clinician_client, plan, note_to_patient=NOTE, race_date=earlier, _continue="1")
    clinician_client.post(change_url, colleague)

    press(clinician_client, plan, "status", {**mine, "status": "paused"})  # nothing typed on the old page

    plan.refresh_from_db()
    assert plan.status == RecoveryPlan.Status.PAUSED
    assert plan.note_to_patient == NOTE and plan.race_date.strftime("%d/%m/%Y") == earlier  # the colleague's, kept

    # The note itself the colleague changed too: replacing it unseen is refused once, saying what it says now.
    refused = clinician_client.post(change_url, {**mine, "note_to_patient": "See you Monday.", "_continue": "1"})
    said = f"{clinician.get_full_name()} saved a change to this at "  # the colleague's save, from the plan's History
    assert said in refused.text and f"after you opened the page: it now says “{NOTE}”." in unescape(refused.text)
    plan.refresh_from_db()
    assert plan.note_to_patient == NOTE
    # Saved again from that page, knowingly: the note is replaced and the old date still not brought back.
    saved = clinician_client.post(change_url, form_data(refused), follow=True)
    plan.refresh_from_db()
    assert plan.note_to_patient == "See you Monday."
    assert plan.race_date.strftime("%d/%m/%Y") == earlier
    assert f"race {plan.race_date:%d %b %Y}</a>” was changed" in unescape(saved.text)  # the plan as it is now


def test_a_note_written_outside_the_browser_is_not_changed_by_its_line_breaks(clinician_client, plan):
    RecoveryPlan.objects.filter(pk=plan.pk).update(note_to_patient="Well done.\nSee you Monday.")
    data = page_form(clinician_client, plan, status="paused")
    data = {name: value.replace("\n", "\r\n") if isinstance(value, str) else value for name, value in data.items()}
    before = LogEntry.objects.filter(object_id=str(plan.pk)).count()

    press(clinician_client, plan, "status", data)  # as a browser sends a textarea: CRLF

    assert LogEntry.objects.filter(object_id=str(plan.pk)).count() == before + 1  # the pause alone
    plan.refresh_from_db()
    assert plan.note_to_patient == "Well done.\nSee you Monday."


def test_history_says_each_change_from_what_to_what(clinician_client, plan, clinician):
    earlier = plan.race_date - datetime.timedelta(days=1)
    data = page_form(
        clinician_client, plan, note_to_patient=NOTE, race_date=earlier.strftime("%d/%m/%Y"), clinician=clinician.pk
    )
    clinician_client.post(reverse("admin:recovery_recoveryplan_change", args=[plan.pk]), {**data, "_continue": "1"})

    said = LogEntry.objects.filter(object_id=str(plan.pk)).get().get_change_message()
    assert f"Race date: {plan.race_date:%-d %b %Y} → {earlier:%-d %b %Y}." in said
    assert f"Clinician: none → {clinician.get_full_name()}." in said
    assert f"Note to patient: “{NOTE}”." in said


def test_a_race_date_that_withdraws_the_sign_off_says_so_in_history(clinician_client, plan, clinician):
    signed_off = clinic_today() - datetime.timedelta(days=5)
    RecoveryPlan.objects.filter(pk=plan.pk).update(cleared_to_run_on=signed_off, cleared_by=clinician)
    later = clinic_today() - datetime.timedelta(days=2)  # a race after the sign-off: it cannot stand for this one
    clinician_client.post(
        reverse("admin:recovery_recoveryplan_change", args=[plan.pk]),
        {**page_form(clinician_client, plan, race_date=later.strftime("%d/%m/%Y")), "_continue": "1"},
    )
    said = LogEntry.objects.filter(object_id=str(plan.pk)).first().get_change_message()
    assert "so it was withdrawn." in said


def test_a_refused_button_says_nothing_else_was_done(clinician_client, plan):
    future = (clinic_today() + datetime.timedelta(days=5)).strftime("%d/%m/%Y")
    response = press(
        clinician_client, plan, "status", page_form(clinician_client, plan, race_date=future, status="paused")
    )
    assert "Nothing else was done: correct what is marked below, then press the button again." in unescape(
        response.text
    )


def test_a_race_date_corrected_at_the_front_desk_is_not_put_down_to_the_last_clinician(clinician_client, plan):
    from recovery.services import plan_race_date_correct

    change_url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    stale = page_form(clinician_client, plan)
    clinician_client.post(change_url, {**page_form(clinician_client, plan), "note_to_patient": NOTE})  # in History
    desk_date = plan.race_date - datetime.timedelta(days=1)
    plan_race_date_correct(plan, desk_date)  # at the front desk: no admin History

    typed = (plan.race_date - datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    refused = clinician_client.post(change_url, {**stale, "race_date": typed})
    assert f"Someone saved a change to this after you opened the page: it now says {desk_date:%-d %b %Y}." in unescape(
        refused.text
    )

"""The clinic hears of each new alert by e-mail, after the commit, with no health details; and the patient's data
download holds their alerts."""

import json
import logging
import re
import smtplib

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from recovery.checkins import check_in_save, compression_numbness_report
from recovery.clock import clinic_today
from recovery.models import Alert, CheckIn
from recovery.notifications import alert_mail_send
from tests.factories import ClinicianFactory, make_plan

pytestmark = pytest.mark.django_db

URL = "/check-in/"
NOTE = "My knee clicks on the stairs"


class BrokenMailer(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPException("421 Service not available")


@pytest.fixture
def clinician_plan(patient):
    patient.last_name = "Walker"
    patient.save()
    return make_plan(patient, clinician=ClinicianFactory(email="dr.hale@apex.test"))


@pytest.fixture
def broken_mail(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.test_alert_mail.BrokenMailer"}}


def red_day(client, django_capture_on_commit_callbacks, **answers):
    answers = {"pain": "8", "night_pain": "on", "cola_coloured_urine": "on", "note": NOTE} | answers
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, answers)
    assert response.status_code == 302
    return response


def test_a_new_alert_mails_the_duty_address_and_the_patients_clinician(
    patient_client, clinician_plan, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_DUTY_EMAIL = "on-call@apex.test"
    settings.SITE_URL = "https://portal.apex.test"
    with django_capture_on_commit_callbacks(execute=True):
        patient_client.post(URL, {"pain": "2", "fever_or_hot_joint": "on"})
    [message] = mailoutbox
    assert message.to == ["on-call@apex.test", "dr.hale@apex.test"]
    alert = Alert.objects.get()
    link = "https://portal.apex.test" + reverse("admin:recovery_alert_change", args=[alert.pk])
    assert link in message.body
    assert "Alice Walker" in message.body


def test_two_alerts_of_one_check_in_come_in_mails_a_clinician_can_tell_apart(
    patient_client, clinician_plan, mailoutbox, django_capture_on_commit_callbacks
):
    red_day(patient_client, django_capture_on_commit_callbacks)
    red_flag, high_pain = Alert.objects.order_by("-severity")
    # One e-mail for the one save, not one per alert in the same second with the urgent one among them.
    [message] = mailoutbox
    assert message.subject == (
        f"Apex Sports Clinic: 2 new patient alerts (urgent first) to look at (nos. {red_flag.pk}, {high_pain.pk})"
    )
    links = [reverse("admin:recovery_alert_change", args=[alert.pk]) for alert in (red_flag, high_pain)]
    assert re.search(rf"^- New \(urgent\): https?://\S+{links[0]}$", message.body, re.M)  # the most urgent first
    assert re.search(rf"^- New \(high\): https?://\S+{links[1]}$", message.body, re.M)
    assert message.body.index(links[0]) < message.body.index(links[1])
    assert "One is urgent: please read them in the admin now" in message.body


def test_the_e_mail_holds_no_health_details(
    patient_client, clinician_plan, mailoutbox, django_capture_on_commit_callbacks
):
    red_day(patient_client, django_capture_on_commit_callbacks)
    assert Alert.objects.count() == 2 and len(mailoutbox) == 1  # red flag and high pain, in one e-mail
    words = [str(CheckIn._meta.get_field(name).verbose_name) for name in CheckIn.RED_FLAG_FIELDS]
    for message in mailoutbox:
        subject = message.subject.split("(nos.")[0]
        text = f"{subject}\n{message.body}".lower()
        assert "pain" not in text and "/10" not in text and "8" not in subject
        assert NOTE.lower() not in text and "urine" not in text and "numb" not in text
        assert not any(word.lower() in text for word in words)
        assert not any(kind.label.lower() in text for kind in Alert.Kind)
        assert not message.attachments and not getattr(message, "alternatives", [])


def test_the_mail_is_sent_only_after_the_commit(patient_client, plan, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_client.post(URL, {"pain": "9"})
    assert Alert.objects.count() == 1
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_without_a_clinician_only_the_duty_address_is_mailed(
    patient_client, plan, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.CLINIC_DUTY_EMAIL = "on-call@apex.test"
    red_day(patient_client, django_capture_on_commit_callbacks, night_pain="", cola_coloured_urine="")
    assert [message.to for message in mailoutbox] == [["on-call@apex.test"]]


def test_editing_the_days_check_in_to_say_less_sends_no_second_mail(
    patient_client, plan, mailoutbox, django_capture_on_commit_callbacks
):
    red_day(patient_client, django_capture_on_commit_callbacks, pain="9", night_pain="", cola_coloured_urine="")
    red_day(patient_client, django_capture_on_commit_callbacks, pain="8", night_pain="", cola_coloured_urine="")
    red_day(patient_client, django_capture_on_commit_callbacks, pain="1", night_pain="", cola_coloured_urine="")
    assert len(mailoutbox) == 1 and Alert.objects.count() == 1


def test_a_warning_sign_added_to_an_open_alert_is_mailed_again_and_the_first_stays_on_record(
    patient_client, plan, mailoutbox, django_capture_on_commit_callbacks
):
    """Read as "call the clinic", then "call 999": the clinician must hear of it. And an emergency reported at
    nine is still on record when the check-in says something milder at ten."""
    night = {"pain": "3", "night_pain": "on", "cola_coloured_urine": ""}
    red_day(patient_client, django_capture_on_commit_callbacks, **night)
    red_day(patient_client, django_capture_on_commit_callbacks, **night, bladder_or_bowel_change="on")
    alert = Alert.objects.get()
    assert len(mailoutbox) == 2
    assert (
        mailoutbox[1].subject == f"Apex Sports Clinic: a patient alert now worse (urgent) to look at (no. {alert.pk})"
    )
    assert "an alert not yet acknowledged has been updated" in mailoutbox[1].body
    assert alert.reason.startswith("The patient answered yes to: pain at night; ")
    assert "They were told to call 999 or go to A&E now, and to keep weight off the leg" in alert.reason

    red_day(patient_client, django_capture_on_commit_callbacks, **night)  # played down
    alert.refresh_from_db()
    assert len(mailoutbox) == 2  # less is no news
    assert alert.reason.startswith("The patient answered yes to: pain at night. They were told to stop loading")
    assert "it had said: The patient answered yes to: pain at night; " in alert.reason
    assert "call 999 or go to A&E now" in alert.reason


def test_an_edit_that_worsens_one_alert_and_raises_another_sends_one_mail_saying_which_is_which(
    patient_client, plan, mailoutbox, django_capture_on_commit_callbacks
):
    red_day(patient_client, django_capture_on_commit_callbacks, pain="7", night_pain="", cola_coloured_urine="")
    red_day(patient_client, django_capture_on_commit_callbacks, pain="9", cola_coloured_urine="")
    assert len(mailoutbox) == 2  # the first save's, then one for the edit
    red_flag, high_pain = Alert.objects.order_by("-severity")
    edit = mailoutbox[1]
    assert edit.subject == (
        f"Apex Sports Clinic: 2 patient alerts, new or changed (urgent first) to look at (nos. {red_flag.pk}, "
        f"{high_pain.pk})"
    )
    assert "- New (urgent): " in edit.body and "- Not yet acknowledged, now worse (high): " in edit.body


def test_a_new_kind_of_alert_on_an_edit_is_mailed(patient_client, plan, mailoutbox, django_capture_on_commit_callbacks):
    red_day(patient_client, django_capture_on_commit_callbacks, night_pain="", cola_coloured_urine="")
    red_day(patient_client, django_capture_on_commit_callbacks, cola_coloured_urine="")
    assert len(mailoutbox) == 2
    assert set(Alert.objects.values_list("kind", flat=True)) == {Alert.Kind.HIGH_PAIN, Alert.Kind.RED_FLAG}


def test_a_calm_check_in_sends_no_mail(patient_client, plan, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        patient_client.post(URL, {"pain": "1"})
    assert callbacks == [] and mailoutbox == []


def test_compression_numbness_is_mailed_too(plan, mailoutbox, django_capture_on_commit_callbacks):
    today = clinic_today()
    with django_capture_on_commit_callbacks(execute=True):
        compression_numbness_report(plan=plan, date=today, today=today)
        compression_numbness_report(plan=plan, date=today, today=today)
    assert len(mailoutbox) == 1
    assert "numb" not in mailoutbox[0].body.lower() and "compression" not in mailoutbox[0].body.lower()


def test_a_failing_mail_server_keeps_the_alert_shows_the_stop_screen_and_logs_the_failure(
    patient_client, plan, broken_mail, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.ERROR):
        response = red_day(patient_client, django_capture_on_commit_callbacks)
    assert response["Location"] == URL
    assert Alert.objects.count() == 2 and CheckIn.objects.get().pain == 8
    page = patient_client.get(URL)
    assert page.status_code == 200 and "data-alert" in page.content.decode()
    failures = [record for record in caplog.records if record.name == "recovery.notifications"]
    assert len(failures) == 1  # one e-mail for both alerts
    assert all(record.levelno == logging.ERROR and record.exc_info for record in failures)
    assert "Could not send the e-mail for alerts" in failures[0].getMessage()
    assert isinstance(failures[0].exc_info[1], smtplib.SMTPException)


class DownQueue:
    """A task queue that can't be reached (e.g. the database worker's table is gone)."""

    def enqueue(self, *args, **kwargs):
        raise ConnectionError("queue is down")


def test_a_failure_to_queue_the_mail_is_logged_not_raised(
    plan, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    monkeypatch.setattr("recovery.notifications.alert_mail_send", DownQueue())
    today = clinic_today()
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        check_in_save(plan=plan, date=today, data={"pain": 9}, today=today)
    assert Alert.objects.count() == 1
    assert "Could not queue the e-mail for alert" in caplog.text


def test_an_alert_gone_before_the_task_runs_sends_nothing(plan, mailoutbox, caplog):
    alert = Alert.objects.create(plan=plan, kind=Alert.Kind.HIGH_PAIN, severity=2, date=clinic_today(), reason="x")
    alert_id = alert.pk
    alert.delete()
    with caplog.at_level(logging.WARNING):
        result = alert_mail_send.enqueue([[alert_id, "new"]])
    assert result.return_value == 0 and mailoutbox == []
    assert f"Alerts {alert_id} are gone" in caplog.text


# -- My data -------------------------------------------------------------------------------------------------------


def test_the_patients_data_download_holds_their_alerts(patient_client, plan, other_patient):
    today = clinic_today()
    check_in_save(plan=plan, date=today, data={"pain": 7, "night_pain": True}, today=today)
    other_plan = make_plan(other_patient)
    check_in_save(plan=other_plan, date=today, data={"pain": 10}, today=today)
    data = json.loads(patient_client.get(reverse("recovery:export_json")).content)
    assert sorted(alert["kind"] for alert in data["alerts"]) == ["high_pain", "red_flag"]
    assert {alert["plan_id"] for alert in data["alerts"]} == {plan.pk}
    assert any("pain at night" in alert["reason"] for alert in data["alerts"])
    csv = patient_client.get(reverse("recovery:export_csv")).content.decode()
    assert "alerts,1,kind,red_flag" in csv and "alerts,2,kind,high_pain" in csv
    assert f"plan_id,{other_plan.pk}" not in csv


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_in_a_real_commit_a_failing_mail_server_never_becomes_an_error_page(client, broken_mail, caplog):
    # Without the test's wrapping transaction the commit is real, so the mail task runs inside the request,
    # exactly as in production with the immediate backend.
    from tests.factories import PatientFactory

    patient = PatientFactory()
    plan = make_plan(patient)
    client.force_login(patient)
    with caplog.at_level(logging.ERROR):
        response = client.post(URL, {"pain": "3", "cannot_bear_weight": "on"})
    assert response.status_code == 302
    assert Alert.objects.filter(plan=plan, kind=Alert.Kind.RED_FLAG).exists()
    assert "data-alert" in client.get(URL).content.decode()
    assert any(record.name == "recovery.notifications" and record.exc_info for record in caplog.records)


def test_the_clinics_name_reads_as_written_in_the_subject(
    patient_client, clinician_plan, mailoutbox, django_capture_on_commit_callbacks, settings
):
    """Plain-text e-mails: no HTML escaping of a name with an ampersand ("&amp;" in every subject before)."""
    settings.CLINIC_NAME = "Hale & Okafor Sports Clinic"
    red_day(patient_client, django_capture_on_commit_callbacks)
    [message] = mailoutbox
    assert message.subject.startswith("Hale & Okafor Sports Clinic: 2 new patient alerts")

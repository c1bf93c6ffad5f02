"""The worker and the clinic's clock, for real: tasks wait in the database (django-tasks-db) and the worker runs in
batch mode (``db_worker --batch``: every ready task, then stop), in the test's own process, under frozen time.

These tests commit for real (transactional tests), as the worker does in production. ``serialized_rollback``
puts back the groups, tips and protocol that the data migrations made.
"""

import datetime
import signal
import smtplib
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.tasks import TaskResultStatus
from django.test import Client
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from jobs.heartbeats import SWEEP, WorkerHeartbeat, heartbeat_beat, last_seen, worker_name
from jobs.models import Heartbeat
from jobs.requeue import TASK_STALE_AFTER, tasks_requeue_orphans
from jobs.sweep import sweep
from recovery.care import alert_acknowledge, plan_set_status
from recovery.clock import clinic_today
from recovery.models import Alert, ExcusedDay, Protocol, SafetyThresholds
from recovery.notifications import ALERT_MAIL_RETRY_MINUTES, alert_mail_send, inactive_digest_send
from reminders.delivery import reminder_send
from reminders.models import ReminderDelivery, ReminderSettings
from tests.factories import ClinicianFactory, PatientFactory, ReceptionFactory, make_plan

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LONDON = ZoneInfo("Europe/London")
DAY = datetime.date(2026, 6, 10)  # British Summer Time: 08:00 in London is 07:00 UTC
ONE_DAY = datetime.timedelta(days=1)
ON_POSTGRESQL = connection.vendor == "postgresql"


def at(hour, minute=0, day=DAY):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


@pytest.fixture(autouse=True)
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TIME_ZONE = "Europe/London"


@pytest.fixture
def clock():
    with time_machine.travel(at(0, 1), tick=False) as traveller:
        yield traveller


def run_worker(worker_id="worker-a"):
    """``manage.py worker --batch``'s loop: run every task that is ready, then return."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    ).run()


def tick(clock, now):
    """One minute of production: the timer runs the sweep, the worker takes what it queued."""
    clock.move_to(now)
    sweep(now=now)
    run_worker()


def walk(clock, first, last, every=datetime.timedelta(minutes=5)):
    """Run the clock from ``first`` to ``last``; return the local times at which e-mails went out."""
    sent_at = []
    now = first
    while now <= last:
        before = len(mail.outbox)
        tick(clock, now)
        sent_at += [now.astimezone(LONDON).strftime("%H:%M")] * (len(mail.outbox) - before)
        now += every
    return sent_at


def three_ice_times(patient):
    ReminderSettings.objects.create(
        user=patient,
        ice_time_1=datetime.time(8),
        ice_time_2=datetime.time(13),
        ice_time_3=datetime.time(18),
        evening_nudge=False,
    )


# Done when: a patient with reminders at three times gets exactly three e-mails that day, none after unsubscribing


def test_three_reminder_times_bring_exactly_three_e_mails_that_day(clock):
    patient = PatientFactory(email="alice@example.com")
    make_plan(patient, days_since_race=1)  # day 1: within the first 48 hours, three ice doses
    three_ice_times(patient)
    sent_at = walk(clock, at(0, 0), at(23, 55))
    assert sent_at == ["08:00", "13:00", "18:00"]
    assert all(message.to == ["alice@example.com"] for message in mail.outbox)
    assert ReminderDelivery.objects.filter(status="sent").count() == 3
    assert DBTaskResult.objects.successful().count() == 3


def test_the_reminders_are_sent_at_the_clinics_hour_not_utcs(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    three_ice_times(patient)
    tick(clock, datetime.datetime(2026, 6, 10, 6, 59, tzinfo=datetime.UTC))
    assert mail.outbox == []
    tick(clock, datetime.datetime(2026, 6, 10, 7, 0, tzinfo=datetime.UTC))  # 08:00 in London
    assert len(mail.outbox) == 1


def test_none_after_unsubscribing_with_the_one_click_header(clock, settings):
    settings.SITE_URL = "https://recovery.apex.test"
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    three_ice_times(patient)
    assert walk(clock, at(7, 0), at(8, 0)) == ["08:00"]
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    url = header.strip("<>").removeprefix("https://recovery.apex.test")
    response = Client(enforce_csrf_checks=True).post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert walk(clock, at(8, 5), at(23, 55)) == []
    assert walk(clock, at(0, 0, DAY + ONE_DAY), at(23, 55, DAY + ONE_DAY), every=datetime.timedelta(minutes=15)) == []
    assert len(mail.outbox) == 1


def test_a_reminder_queued_before_unsubscribing_is_not_sent_after(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    clock.move_to(at(8))
    sweep(now=at(8))  # queued; the worker has not run yet
    ReminderSettings.objects.update_or_create(user=patient, defaults={"enabled": False})
    run_worker()
    assert mail.outbox == []
    assert ReminderDelivery.objects.get().status == "skipped"


def test_the_evening_nudge_on_a_day_with_nothing_logged(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=5)
    assert walk(clock, at(0, 0), at(23, 55), every=datetime.timedelta(minutes=10)) == ["09:00", "20:00"]
    assert "gentle nudge" in mail.outbox[1].subject


# Bad input: a worker killed in the middle of sending; the reminder is sent on restart


def test_a_worker_killed_while_sending_a_reminder_is_made_good_by_the_sweep(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    clock.move_to(at(8))
    sweep(now=at(8))
    # The worker took the task and claimed the delivery, then was killed before it sent anything (SIGKILL, or
    # the machine lost power): the task stays "running", the delivery claimed and not sent.
    heartbeat_beat(worker_name("doomed"), at(8))
    task = DBTaskResult.objects.ready().get()
    task.claim("doomed")
    ReminderDelivery.objects.update(claimed_at=at(8), claimed_by="doomed", attempts=1)

    # A few minutes later the task has not been running long enough to count as abandoned.
    tick(clock, at(8, 5))
    assert mail.outbox == [] and DBTaskResult.objects.get().status == TaskResultStatus.RUNNING

    # The worker is restarted (a new id) and the sweep, once the task is stale, puts it back in the queue.
    clock.move_to(at(8) + TASK_STALE_AFTER + datetime.timedelta(minutes=1))
    assert sweep(now=at(8) + TASK_STALE_AFTER + datetime.timedelta(minutes=1)).counts["tasks re-queued"] == 1
    run_worker("restarted")
    [message] = mail.outbox
    assert message.subject == "Your next plan task is due"
    delivery = ReminderDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.claimed_by) == ("sent", 2, "restarted")
    task = DBTaskResult.objects.get()
    assert task.status == TaskResultStatus.SUCCESSFUL and task.worker_ids == ["doomed", "restarted"]
    # And nothing more for that slot, however often the clock runs.
    walk(clock, at(8, 15), at(9, 0))
    assert len(mail.outbox) == 1


def test_a_live_workers_long_task_is_left_alone(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    clock.move_to(at(8))
    sweep(now=at(8))
    DBTaskResult.objects.ready().get().claim("busy")
    later = at(8) + TASK_STALE_AFTER * 2
    heartbeat_beat(worker_name("busy"), later)  # still beating: alive, just slow
    clock.move_to(later)
    assert tasks_requeue_orphans(now=later) == 0
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING


def test_a_second_task_for_a_delivery_being_sent_sends_nothing(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    clock.move_to(at(8))
    sweep(now=at(8))
    delivery = ReminderDelivery.objects.get()
    # Another worker claimed it a moment ago and is sending it right now.
    ReminderDelivery.objects.update(claimed_at=at(8), claimed_by="other", attempts=1)
    run_worker()
    assert mail.outbox == []
    assert DBTaskResult.objects.get().return_value == "not claimed"
    delivery.refresh_from_db()
    assert delivery.status == "queued" and delivery.claimed_by == "other"


# Done when: two sweeps and two workers never double-send


def _patients_due_at_eight(count):
    patients = [PatientFactory() for _ in range(count)]
    for patient in patients:
        make_plan(patient, days_since_race=1)
    return patients


def test_two_sweeps_and_two_workers_one_after_the_other_send_each_reminder_once(clock):
    _patients_due_at_eight(3)
    clock.move_to(at(8))
    assert sweep(now=at(8)).counts["reminders queued"] == 3
    assert sweep(now=at(8)).counts["reminders queued"] == 0
    # Even a task queued twice for the same delivery (say by hand) sends once: the claim decides.
    for delivery in ReminderDelivery.objects.all():
        reminder_send.enqueue(delivery.pk)
    run_worker("worker-a")
    run_worker("worker-b")
    assert len(mail.outbox) == 3
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == ["not claimed"] * 3 + ["sent"] * 3


class SlowMailServer(locmem.EmailBackend):
    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


def _in_threads(target, names):
    """Run ``target(name)`` in one thread per name, all starting together; each thread has its own connection."""
    barrier = threading.Barrier(len(names))
    errors = []

    def run(name):
        try:
            barrier.wait()
            target(name)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors


@pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="SQLite runs one writer at a time, so threads cannot race; CI runs this on PostgreSQL",
)
def test_two_sweeps_and_two_workers_at_the_same_moment_never_double_send(clock, settings):
    patients = _patients_due_at_eight(12)
    clock.move_to(at(8))
    _in_threads(lambda name: sweep(now=at(8)), ["sweep-1", "sweep-2"])
    assert ReminderDelivery.objects.count() == 12 and DBTaskResult.objects.count() == 12

    # The worst case for the workers: every reminder has two tasks, one after the other in the queue, so the two
    # workers take the two tasks of a reminder at the same moment; and a slow mail server keeps both in flight.
    DBTaskResult.objects.all().delete()
    for delivery in ReminderDelivery.objects.all():
        for _ in range(2):
            clock.shift(datetime.timedelta(milliseconds=1))  # keeps the queue in this order
            reminder_send.enqueue(delivery.pk)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.SlowMailServer"}}
    _in_threads(run_worker, ["worker-a", "worker-b"])
    assert sorted(message.to[0] for message in mail.outbox) == sorted(patient.email for patient in patients)
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}


# Done when: an inactive patient gets an alert from the sweep (once)


def test_an_inactive_patient_gets_an_alert_from_the_sweep_and_the_clinic_an_e_mail(clock, settings):
    settings.CLINIC_DUTY_EMAIL = "duty@apex.test"
    days = SafetyThresholds.current().inactive_after_days
    patient = PatientFactory(first_name="Ina", last_name="Quiet")
    plan = make_plan(patient, days_since_race=10, clinician=ClinicianFactory(email="dr.hale@apex.test"))
    plan.last_activity_on = DAY - datetime.timedelta(days=days + 1)
    plan.save()
    ReminderSettings.objects.create(user=patient, enabled=False)  # only the alert's e-mail in the outbox

    tick(clock, at(6))
    alert = Alert.objects.get(plan=plan)
    assert (alert.kind, alert.date, alert.severity) == (Alert.Kind.INACTIVE, DAY, Alert.Severity.WATCH)
    assert "no check-in since" in alert.reason
    assert sorted(message.to[0] for message in mail.outbox) == ["dr.hale@apex.test", "duty@apex.test"]
    assert all("Ina Quiet" in message.body for message in mail.outbox)

    # The clock keeps running: no second alert, no second e-mail, that day or the next (the same silence).
    walk(clock, at(6, 5), at(9), every=datetime.timedelta(minutes=30))
    tick(clock, at(6, day=DAY + ONE_DAY))
    assert Alert.objects.filter(plan=plan).count() == 1 and len(mail.outbox) == 2


def test_a_mornings_quiet_patients_come_in_one_e_mail_and_each_clinician_hears_only_of_their_own(clock, settings):
    settings.CLINIC_DUTY_EMAIL = "duty@apex.test"
    hale, okafor = ClinicianFactory(email="dr.hale@apex.test"), ClinicianFactory(email="dr.okafor@apex.test")
    names = {"Ann Hale1": hale, "Ben Hale2": hale, "Cal Okafor1": okafor, "Dee Nobody": None}
    for name, clinician in names.items():
        first, last = name.split()
        plan, _days = quiet_plan(PatientFactory(first_name=first, last_name=last))
        plan.clinician = clinician
        plan.save()

    tick(clock, at(6))
    assert Alert.objects.filter(kind=Alert.Kind.INACTIVE).count() == 4
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert len(mail.outbox) == 3 and set(by_recipient) == {"duty@apex.test", "dr.hale@apex.test", "dr.okafor@apex.test"}
    assert all(name in by_recipient["duty@apex.test"].body for name in names)
    assert "4 patients quiet for a few days" in by_recipient["duty@apex.test"].subject
    hale_mail = by_recipient["dr.hale@apex.test"].body
    assert "Ann Hale1" in hale_mail and "Ben Hale2" in hale_mail
    assert "Cal Okafor1" not in hale_mail and "Dee Nobody" not in hale_mail  # another clinician's patients: not hers
    assert "a patient quiet for a few days" in by_recipient["dr.okafor@apex.test"].subject


def test_the_quiet_patients_e_mail_that_fails_goes_out_on_a_later_try(clock, settings):
    working = settings.MAILERS
    settings.MAILERS = {"default": {"BACKEND": "tests.test_alert_mail.BrokenMailer"}}
    plan, _days = quiet_plan(PatientFactory(first_name="Ina", last_name="Quiet"))
    tick(clock, at(6))
    assert Alert.objects.filter(plan=plan).exists() and mail.outbox == []

    settings.MAILERS = working  # the mail server is back
    clock.move_to(at(6, 2))
    run_worker()
    [message] = mail.outbox
    assert "Ina Quiet" in message.body


class RefusingMailServer(locmem.EmailBackend):
    """A mail server that refuses one address, as an SMTP server refuses a mistyped one; and like Django's SMTP
    backend, one ``send_messages`` stops at the first refusal."""

    refused = "dr.typo@apex.test"

    def send_messages(self, messages):
        for message in messages:
            if self.refused in message.recipients():
                raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"5.1.1 No such user")})
            super().send_messages([message])
        return len(messages)


def test_one_refused_clinician_address_stops_only_their_e_mail_and_only_it_is_tried_again(clock, settings, caplog):
    settings.CLINIC_DUTY_EMAIL = "duty@apex.test"
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}
    typo, okafor = ClinicianFactory(email=RefusingMailServer.refused), ClinicianFactory(email="dr.okafor@apex.test")
    for name, clinician in (("Ann Typo", typo), ("Cal Okafor", okafor)):  # the refused address comes first
        first, last = name.split()
        plan, _days = quiet_plan(PatientFactory(first_name=first, last_name=last))
        plan.clinician = clinician
        plan.save()

    def received():
        return sorted(message.to[0] for message in mail.outbox)

    tick(clock, at(6))
    assert received() == ["dr.okafor@apex.test", "duty@apex.test"]  # the others' e-mails went all the same
    assert "Could not send 1 of the e-mails for the inactive alerts" in caplog.text
    assert "(trying again in 1 minute)" in caplog.text

    now = at(6)
    for minutes in ALERT_MAIL_RETRY_MINUTES:  # every try, the address still refused
        now += datetime.timedelta(minutes=minutes)
        clock.move_to(now)
        run_worker()
    clock.move_to(now + ONE_DAY)
    run_worker()
    assert received() == ["dr.okafor@apex.test", "duty@apex.test"]  # one copy each, whatever the retries
    tries = DBTaskResult.objects.filter(task_path=inactive_digest_send.module_path)
    assert tries.count() == len(ALERT_MAIL_RETRY_MINUTES) + 1
    retried = [t.args_kwargs["args"][0] for t in tries if t.args_kwargs["kwargs"].get("attempt", 1) > 1]
    assert {recipient for mails in retried for recipient, _ids in mails} == {RefusingMailServer.refused}
    assert "no more tries" in caplog.text


def test_a_refused_address_that_is_corrected_gets_its_e_mail_on_the_next_try(clock, settings):
    settings.CLINIC_DUTY_EMAIL = "duty@apex.test"
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingMailServer"}}
    plan, _days = quiet_plan(PatientFactory(first_name="Ann", last_name="Typo"))
    plan.clinician = ClinicianFactory(email=RefusingMailServer.refused)
    plan.save()
    tick(clock, at(6))
    assert [message.to for message in mail.outbox] == [["duty@apex.test"]]

    RefusingMailServer.refused = "nobody@apex.test"  # the server takes the address now
    try:
        clock.move_to(at(6, 2))
        run_worker()
    finally:
        RefusingMailServer.refused = "dr.typo@apex.test"
    assert [message.to for message in mail.outbox] == [["duty@apex.test"], ["dr.typo@apex.test"]]
    assert "Ann Typo" in mail.outbox[1].body


def quiet_plan(patient=None):
    """A plan whose patient has logged nothing for a day more than the clinic's inactive limit, with reminders off
    (only the alerts' e-mails go out); and that limit."""
    days = SafetyThresholds.current().inactive_after_days
    patient = patient or PatientFactory()
    plan = make_plan(patient, days_since_race=10)
    plan.last_activity_on = DAY - datetime.timedelta(days=days + 1)
    plan.save()
    ReminderSettings.objects.create(user=patient, enabled=False)
    return plan, days


def test_an_inactive_alert_quotes_the_days_off_the_patient_marked_meanwhile(clock):
    """Three days off, "fever", and nothing else: the clinician's call starts from the patient's own words."""
    plan, days = quiet_plan()
    ExcusedDay.objects.create(plan=plan, date=DAY - datetime.timedelta(days=2), reason="fever, feel awful")
    ExcusedDay.objects.create(plan=plan, date=DAY - datetime.timedelta(days=1))
    ExcusedDay.objects.create(plan=plan, date=DAY - datetime.timedelta(days=days + 3), reason="before the silence")
    tick(clock, at(6))
    reason = Alert.objects.get(plan=plan).reason
    yesterday, day_before = DAY - ONE_DAY, DAY - 2 * ONE_DAY
    assert reason.endswith(
        f"Days off marked meanwhile: {day_before:%-d %b} “fever, feel awful”; {yesterday:%-d %b} (no reason given)."
    )


def never_set_up_plan(invited_days_ago, **changes):
    """The plan of a patient enrolled and invited ``invited_days_ago`` days ago who never chose a password."""
    invited = at(10, day=DAY - datetime.timedelta(days=invited_days_ago))
    patient = PatientFactory(first_name="Nell", **{"invited_at": invited, "invitation_sent_at": invited, **changes})
    patient.set_unusable_password()
    patient.save()
    ReminderSettings.objects.create(user=patient, enabled=False)
    return make_plan(patient, days_since_race=invited_days_ago + 1, enrolled_days_ago=invited_days_ago)


def test_an_alert_for_a_patient_who_never_set_up_their_account_says_so(clock, settings):
    """ "Nothing ticked since the plan started" sent the clinician to ask about the hip; the patient had lost the
    invitation. The alert stays (the clinic should call), with the reason the clinician needs."""
    settings.INVITATION_VALID_DAYS = 7
    plan = never_set_up_plan(10)
    tick(clock, at(6))
    alert = Alert.objects.get(plan=plan)
    assert (alert.kind, alert.severity) == (Alert.Kind.INACTIVE, Alert.Severity.WATCH)
    assert alert.reason == (
        "Has not set up their account yet (invited on 31 May 2026; the invitation's link expired on 7 Jun 2026),"
        " so they cannot tick or check in. Ask reception to send a new invitation."
    )
    assert "Nothing ticked" not in alert.reason
    assert len(mail.outbox) == 1  # the clinic still hears of it


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, "the invitation's link works until 13 Jun 2026"),
        (
            {"invitation_sent_at": None, "invitation_failed_at": at(10, day=DAY - 4 * ONE_DAY)},
            "the invitation e-mail could not be sent",
        ),
    ],
    ids=["link still working", "e-mail failed"],
)
def test_the_alert_says_what_became_of_the_invitation(clock, settings, changes, state):
    settings.INVITATION_VALID_DAYS = 7
    plan = never_set_up_plan(4, **changes)
    tick(clock, at(6))
    assert f"(invited on 6 Jun 2026; {state})" in Alert.objects.get(plan=plan).reason


def test_a_new_silence_after_some_activity_is_a_new_alert(clock):
    plan, days = quiet_plan()
    tick(clock, at(6))
    # The patient comes back the next day, then goes quiet again.
    plan.last_activity_on = DAY + ONE_DAY
    plan.save()
    later = DAY + datetime.timedelta(days=days + 2)
    tick(clock, at(6, day=later))
    assert list(Alert.objects.filter(plan=plan).values_list("date", flat=True).order_by("date")) == [DAY, later]


def test_active_paused_and_new_plans_raise_no_inactive_alert(clock):
    busy = make_plan(PatientFactory(), days_since_race=10)
    busy.last_activity_on = DAY - ONE_DAY
    busy.save()
    paused = make_plan(PatientFactory(), days_since_race=10)
    plan_set_status(plan=paused, status=paused.Status.PAUSED, today=clinic_today())
    make_plan(PatientFactory(), days_since_race=0)  # enrolled today: nothing to miss yet
    tick(clock, at(6))
    assert not Alert.objects.exists()


def test_a_resumed_plan_is_not_inactive_for_its_days_on_hold_but_a_new_silence_after_it_is(clock, clinician):
    days = SafetyThresholds.current().inactive_after_days
    patient = PatientFactory(email="held@example.com")
    ReminderSettings.objects.create(user=patient, enabled=False)
    plan = make_plan(patient, days_since_race=20)
    plan.last_activity_on = DAY - datetime.timedelta(days=10)  # then the clinician paused it
    plan.save()
    plan_set_status(plan=plan, status=plan.Status.PAUSED, today=DAY - datetime.timedelta(days=10))
    plan_set_status(plan=plan, status=plan.Status.ACTIVE, today=DAY)
    tick(clock, at(9, 1))  # a minute after the resume
    assert not Alert.objects.exists()
    desk = Client()  # signed in at 09:01: a session from the clock's 00:01 idled out, and the sweep deleted it
    desk.force_login(clinician)
    listed = desk.get(reverse("admin:recovery_recoveryplan_changelist"))
    assert listed.status_code == 200
    assert "apex-flag-inactive" not in listed.text and f"quiet since resumed {DAY:%d %b}" in listed.text
    # The patient then says nothing for the usual number of days: that is a silence of their own.
    later = DAY + datetime.timedelta(days=days + 1)
    tick(clock, at(6, day=later))
    alert = Alert.objects.get(plan=plan)
    assert alert.reason == (
        f"Nothing ticked and no check-in since the plan was resumed on {DAY:%-d %b %Y} ({days} days or more)."
    )


# Done when: the invitation is sent by the worker; and so are the alert e-mails


def test_the_invitation_is_sent_by_the_worker(clock):
    desk = Client()
    desk.force_login(ReceptionFactory())
    response = desk.post(
        "/front-desk/enroll/",
        {
            "first_name": "Dana",
            "last_name": "Scully",
            "email": "dana@example.com",
            "race_date": DAY.isoformat(),
            "protocol": Protocol.objects.default().pk,
        },
    )
    assert response.status_code == 302
    dana = User.objects.get(email="dana@example.com")
    assert mail.outbox == [] and dana.invitation_sent_at is None  # queued, waiting for the worker
    assert DBTaskResult.objects.ready().get().task_path == "accounts.frontdesk.invitations.invitations_send"
    run_worker()
    [message] = mail.outbox
    assert message.to == ["dana@example.com"] and "/welcome/" in message.body
    dana.refresh_from_db()
    assert dana.invitation_sent_at is not None


def test_a_check_in_alert_is_e_mailed_by_the_worker(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=3)
    client = Client()
    client.force_login(patient)
    assert client.post("/check-in/", {"pain": "9"}).status_code == 302
    assert mail.outbox == []
    run_worker()
    assert len(mail.outbox) == 1 and Alert.objects.get().kind == Alert.Kind.HIGH_PAIN


def red_flag_check_in(patient):
    client = Client()
    client.force_login(patient)
    assert client.post("/check-in/", {"pain": "3", "cannot_bear_weight": "on"}).status_code == 302
    return Alert.objects.get(plan__patient=patient)


def alert_mail_tries():
    """The status of each try of the alert's e-mail, first try first (under a frozen clock, all enqueued at once)."""
    tries = DBTaskResult.objects.filter(task_path=alert_mail_send.module_path)
    return [t.status for t in sorted(tries, key=lambda t: t.args_kwargs["kwargs"].get("attempt", 1))]


def test_an_alert_mail_that_fails_goes_out_on_its_next_try_a_minute_later(clock, settings):
    working = settings.MAILERS
    settings.MAILERS = {"default": {"BACKEND": "tests.test_alert_mail.BrokenMailer"}}
    patient = PatientFactory(last_name="Okafor")
    make_plan(patient, days_since_race=3)
    red_flag_check_in(patient)
    run_worker()
    assert mail.outbox == [] and alert_mail_tries() == [TaskResultStatus.FAILED, TaskResultStatus.READY]

    settings.MAILERS = working  # the mail server is back
    clock.move_to(at(0, 1) + datetime.timedelta(seconds=50))
    run_worker()
    assert mail.outbox == []  # not before its minute
    clock.move_to(at(0, 2) + datetime.timedelta(seconds=30))
    run_worker()
    assert len(mail.outbox) == 1 and "Okafor" in mail.outbox[0].subject + mail.outbox[0].body
    assert alert_mail_tries() == [TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL]


def test_an_alert_mail_is_given_up_after_its_last_try_and_the_alert_stays_open(clock, settings, caplog):
    settings.MAILERS = {"default": {"BACKEND": "tests.test_alert_mail.BrokenMailer"}}
    patient = PatientFactory()
    make_plan(patient, days_since_race=3)
    red_flag_check_in(patient)
    run_worker()
    now = at(0, 1)
    for minutes in ALERT_MAIL_RETRY_MINUTES:
        now += datetime.timedelta(minutes=minutes)
        clock.move_to(now)
        run_worker()
    clock.move_to(now + ONE_DAY)
    run_worker()

    assert alert_mail_tries() == [TaskResultStatus.FAILED] * (len(ALERT_MAIL_RETRY_MINUTES) + 1)
    failures = [record.getMessage() for record in caplog.records if record.name == "recovery.notifications"]
    assert "(trying again in 1 minute)" in failures[0] and "no more tries" in failures[-1]
    assert Alert.objects.get().acknowledged_at is None  # still in the clinic's queue


def test_an_alert_acknowledged_before_its_next_try_is_not_mailed(clock, settings):
    working = settings.MAILERS
    settings.MAILERS = {"default": {"BACKEND": "tests.test_alert_mail.BrokenMailer"}}
    patient = PatientFactory()
    make_plan(patient, days_since_race=3)
    alert = red_flag_check_in(patient)
    run_worker()
    settings.MAILERS = working
    alert_acknowledge(alert_ids=[alert.pk], by=ClinicianFactory(), note="Called her: she is on her way in.")

    clock.move_to(at(0, 5))
    run_worker()
    assert mail.outbox == []
    assert alert_mail_tries() == [TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL]


# The commands


def test_manage_py_worker_in_batch_mode_runs_the_queue(clock):
    patient = PatientFactory()
    make_plan(patient, days_since_race=1)
    clock.move_to(at(8))
    call_command("sweep", verbosity=0)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert len(mail.outbox) == 1


def test_the_sweep_command_reports_and_records_its_heartbeat(clock, capsys):
    make_plan(PatientFactory(), days_since_race=1)
    clock.move_to(at(8))
    call_command("sweep")
    assert "1 reminders queued" in capsys.readouterr().out
    assert last_seen(SWEEP) == at(8)


def test_a_failing_step_fails_the_sweep_but_not_the_others(clock, monkeypatch):
    make_plan(PatientFactory(), days_since_race=1)
    clock.move_to(at(8))

    def broken(*, now):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("jobs.sweep.STEPS", [("tasks re-queued", broken), *__import__("jobs.sweep").sweep.STEPS[1:]])
    with pytest.raises(CommandError, match="tasks re-queued failed"):
        call_command("sweep", verbosity=0)
    assert ReminderDelivery.objects.count() == 1  # the reminders were still queued
    assert last_seen(SWEEP) is None  # but no heartbeat: check_deployment will tell


def test_the_sweep_deletes_old_task_results_and_forgets_long_gone_workers(clock):
    make_plan(PatientFactory(), days_since_race=1)
    tick(clock, at(8))
    heartbeat_beat(worker_name("old"), at(8) - datetime.timedelta(days=2))
    later = at(8) + datetime.timedelta(days=15)
    clock.move_to(later)
    sweep(now=later)
    assert not DBTaskResult.objects.finished().exists()  # (the day's inactive alert has just been queued)
    assert not Heartbeat.objects.filter(name=worker_name("old")).exists()


def test_the_workers_heartbeat_thread_beats():
    beat = WorkerHeartbeat("thread-test", every=0.01)
    beat.start()
    try:
        for _ in range(500):
            if Heartbeat.objects.filter(name=worker_name("thread-test")).exists():
                break
            threading.Event().wait(0.01)
    finally:
        beat.stop()
        beat.join(timeout=5)
    assert last_seen(worker_name("thread-test")) is not None

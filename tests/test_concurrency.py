"""Concurrency on PostgreSQL: many requests at the same moment, each thread on its own database connection.

Ticks, enrolments and check-ins arrive together (a double tap, two receptionists, a phone and a laptop): the
database keeps one row per thing, every stored value is one that some request sent, and nothing is lost. These
tests need real concurrent transactions, so they run on PostgreSQL (CI) and are skipped on SQLite.
"""

import threading
from collections import Counter

import psycopg
import pytest
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.frontdesk import views as frontdesk_views
from accounts.frontdesk.forms import TAKEN_EMAIL
from accounts.models import User
from recovery import rules
from recovery.clock import clinic_today
from recovery.facts import facts_for_plan
from recovery.models import Alert, CheckIn, Completion, Protocol, ProtocolStep, RecoveryPlan
from recovery.protocol_updates import protocol_update
from recovery.rules import CHECK_IN_STEP_KEY
from recovery.services import completion_set
from recovery.summaries import last_week_store
from recovery.views import check_in as check_in_views
from tests.factories import PatientFactory, ReceptionFactory, make_plan
from tests.live import database_url

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"),
    # Real commits, seen by the other threads; the reference data (groups, tips, protocol) is put back afterwards.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 20


@pytest.fixture(autouse=True)
def _wide_pool():
    """One pooled connection per thread: the test is about the database's locks, not the pool's queue."""
    pool = connection.pool
    min_size, max_size = pool.min_size, pool.max_size
    pool.resize(min_size, max(max_size, THREADS + 2))
    yield
    pool.resize(min_size, max_size)


def run_together(jobs):
    """Run each job in its own thread, all released at the same instant; return their results in order.

    Each thread has its own database connection (Django's are per thread) and gives it back when it ends.
    """
    start = threading.Barrier(len(jobs))
    results = [None] * len(jobs)
    errors = []

    def run(index, job):
        try:
            start.wait(timeout=30)
            results[index] = job()
        except BaseException as error:  # reported in the main thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished (a deadlock?)"
    if errors:
        raise errors[0]
    return results


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def open_tasks(plan, today):
    facts = facts_for_plan(plan, today - rules.ONE_DAY * 6, today)
    return [task for task in rules.tasks_on(facts, today, today) if task.lock is None and task.key != CHECK_IN_STEP_KEY]


# -- Ticks -------------------------------------------------------------------------------------------------------


def test_twenty_ticks_at_once_keep_one_row_per_task_and_day_and_lose_none():
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)  # the first 48 hours: ice three times a day, among others
    today = clinic_today()
    tasks = open_tasks(plan, today)
    shared = max(tasks, key=lambda task: task.target)
    others = [task for task in tasks if task is not shared]
    assert shared.target > 1 and others, "the default protocol's day 1 has a multi-dose task and others"

    # Half the threads fight over one task with different counts, one of them above its target (refused); the
    # other half each tick one of the other tasks, some of them twice (the same count: a double tap).
    shared_counts = [1 + index % shared.target for index in range(THREADS // 2 - 1)] + [shared.target + 1]
    other_ticks = [others[index % len(others)] for index in range(THREADS - len(shared_counts))]
    requests = [(shared, count) for count in shared_counts] + [(task, 1) for task in other_ticks]

    def tick(task, count, htmx):
        client = logged_in(patient)
        headers = {"HX-Request": "true"} if htmx else {}
        url = reverse("recovery:tick", args=[task.step.ref.id])
        return client.post(url, {"date": today.isoformat(), "count": str(count)}, headers=headers).status_code

    statuses = run_together(
        [
            lambda task=task, count=count, index=index: tick(task, count, htmx=index % 2 == 0)
            for index, (task, count) in enumerate(requests)
        ]
    )

    assert all(status in (200, 302) for status in statuses), statuses
    rows = list(Completion.objects.filter(plan=plan).values_list("step_key", "date", "count"))
    assert len(rows) == len({(key, date) for key, date, _ in rows}), "one row per task and day"
    counts = {key: count for key, date, count in rows if date == today}
    assert counts[shared.key] in set(shared_counts[:-1]), "a count some request sent, never the refused one"
    assert counts[shared.key] <= shared.target
    for task in {task.key: task for task in other_ticks}.values():
        assert counts.get(task.key) == 1, f"the tick on {task.key} was lost"
    assert set(counts) == {shared.key} | {task.key for task in other_ticks}
    assert RecoveryPlan.objects.get(pk=plan.pk).last_activity_on == today


def test_taps_from_pages_showing_the_same_count_change_it_once_and_the_others_are_told():
    """A phone and a laptop both show "1 of 3 done": some taps send "Done one more" (2), others "Undo one" (0), all
    at the same instant. Each write is made on the count its request read, in the one statement: the first to
    commit wins, the taps sending what it wrote are harmless, and every tap sending the other count is refused with
    the count now, never written over it (read, then written regardless, an undo could wipe the dose just added).
    A "Done one more" from another page than the one whose tap wrote 2 is told too: two pages asking for the same
    dose at once may be two doses (services.completion_set: only the same page's second tap is a double tap)."""
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=1)
    today = clinic_today()
    task = next(task for task in open_tasks(plan, today) if task.target == 3)
    completion_set(plan=plan, step_key=task.key, date=today, count=1, today=today)
    counts = [2, 0] * (THREADS // 4)

    def tap(count):
        client = logged_in(patient)
        url = reverse("recovery:tick", args=[task.step.ref.id])
        data = {"date": today.isoformat(), "back": "0", "shown": "1", "count": str(count)}
        response = client.post(url, data, headers={"HX-Request": "true"})
        return response.status_code, "This changed on another device" in response.content.decode()

    results = run_together([lambda count=count: tap(count) for count in counts])

    assert all(status == 200 for status, _told in results), results
    stored = Completion.objects.filter(plan=plan, step_key=task.key, date=today).values_list("count", flat=True)
    final = stored.first() or 0
    assert final in (2, 0), "one of the counts sent, from the count every page showed"
    told = [count for count, (_status, changed) in zip(counts, results, strict=True) if changed]
    if final == 2:  # one "Done one more" wrote it; every other tap, of either count, is told
        assert sorted(told) == sorted([0] * counts.count(0) + [2] * (counts.count(2) - 1)), told
    else:  # one "Undo one" wrote it; the other undos ask for what is so, the "Done one more" taps are told
        assert told == [2] * counts.count(2), told


# -- Enrolments --------------------------------------------------------------------------------------------------


def enrolment(email, protocol):
    return {
        "first_name": "Ann",
        "last_name": "Runner",
        "email": email,
        "date_of_birth": "",
        "phone": "",
        "race_date": (clinic_today() - rules.ONE_DAY * 2).isoformat(),
        "protocol": str(protocol.pk),
        "clinician": "",
    }


def _enrol_outcomes(reception, data, jobs=2):
    responses = run_together([lambda: logged_in(reception).post(reverse("frontdesk:enrol"), data)] * jobs)
    return sorted(response.status_code for response in responses), responses


def test_two_enrolments_of_one_address_at_once_create_one_account():
    reception = ReceptionFactory()
    data = enrolment("Ann.Runner@example.com", Protocol.objects.default())
    statuses, responses = _enrol_outcomes(reception, data)

    assert statuses == [200, 302]
    refused = next(response for response in responses if response.status_code == 200)
    assert "already has an account with this e-mail address" in refused.content.decode()
    assert User.objects.filter(email__iexact="ann.runner@example.com").count() == 1
    assert RecoveryPlan.objects.filter(patient__email="ann.runner@example.com").count() == 1
    assert len([message for message in mail.outbox if "ann.runner@example.com" in message.to]) == 1


def test_two_enrolments_that_both_pass_the_form_check_still_create_one_account(monkeypatch):
    """The worst timing: both requests have checked the address is free before either saves it. The database's
    unique constraint decides, and the loser gets the plain "already has an account" message, not an error."""
    reception = ReceptionFactory()
    both_checked = threading.Barrier(2)
    enrol = frontdesk_views.patient_enrol

    def enrol_after_both_checked(**kwargs):
        both_checked.wait(timeout=30)
        return enrol(**kwargs)

    monkeypatch.setattr(frontdesk_views, "patient_enrol", enrol_after_both_checked)
    statuses, responses = _enrol_outcomes(reception, enrolment("twins@example.com", Protocol.objects.default()))

    assert statuses == [200, 302]
    refused = next(response for response in responses if response.status_code == 200)
    assert TAKEN_EMAIL in refused.content.decode()
    assert User.objects.filter(email="twins@example.com").count() == 1
    patient = User.objects.get(email="twins@example.com")
    assert RecoveryPlan.objects.filter(patient=patient).count() == 1
    assert patient.groups.count() == 1
    assert len([message for message in mail.outbox if "twins@example.com" in message.to]) == 1


# -- Check-ins ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pains", [(8, 8), (8, 9), (2, 8)])
def test_two_check_ins_for_one_day_at_once_leave_one_with_one_alert_at_most(monkeypatch, pains):
    patient = PatientFactory()
    plan = make_plan(patient, days_since_race=5)
    today = clinic_today()
    both_valid = threading.Barrier(2)
    save = check_in_views.check_in_save

    def save_after_both_validated(**kwargs):
        # Both forms are valid and neither has saved yet: the two saves race for the day's one row.
        both_valid.wait(timeout=30)
        return save(**kwargs)

    monkeypatch.setattr(check_in_views, "check_in_save", save_after_both_validated)
    responses = run_together(
        [lambda pain=pain: logged_in(patient).post(reverse("recovery:check_in"), {"pain": str(pain)}) for pain in pains]
    )

    assert [response.status_code for response in responses] == [302, 302]
    check_ins = list(CheckIn.objects.filter(plan=plan))
    assert len(check_ins) == 1 and check_ins[0].date == today
    assert check_ins[0].pain in pains
    kinds = Counter(Alert.objects.filter(plan=plan, date=today).values_list("kind", flat=True))
    assert all(count == 1 for count in kinds.values()), kinds
    assert kinds[Alert.Kind.HIGH_PAIN] == 1  # one of the two asked for it, and it is never silently dropped
    assert len(mail.outbox) == sum(kinds.values()), "one e-mail per alert, not one per request"
    assert Completion.objects.filter(plan=plan, step_key=CHECK_IN_STEP_KEY, date=today).count() == 1


@pytest.mark.parametrize("model", [RecoveryPlan, User], ids=["plans", "users"])
def test_patients_pages_keep_working_while_a_migration_adds_a_column(client, model):
    # A deployment migrates from another process while the servers still run the release before it. Their
    # queries are prepared once per connection (clinic/settings.py): a prepared statement whose result changes
    # shape when its table gains a column would fail on every patient page until the servers restart. The plan
    # and the signed-in user are read by hand-written SQL (clinic/sql.py), the user as a sign-in stores it.
    patient = PatientFactory()
    make_plan(patient, days_since_race=3)
    client.force_login(patient, backend="accounts.backends.EmailBackend")
    for _ in range(3):  # prepared from the second request on
        assert client.get("/today/").status_code == 200
    table = connection.ops.quote_name(model._meta.db_table)
    with psycopg.connect(database_url(connection.settings_dict), autocommit=True) as migration:
        migration.execute(f'ALTER TABLE {table} ADD COLUMN "added_by_the_next_release" integer')
        try:
            assert client.get("/today/").status_code == 200
            assert client.get("/progress/").status_code == 200
        finally:
            migration.execute(f'ALTER TABLE {table} DROP COLUMN "added_by_the_next_release"')


# -- Protocol updates ---------------------------------------------------------------------------------------------


def test_a_protocol_update_sent_twice_at_once_writes_one_version_per_plan():
    # A double click on "Bring these changes to the plans from tomorrow": the second update waits for the first,
    # then finds nothing left to do, instead of adding the step a second time next to the version it cannot see.
    protocol = Protocol.objects.default()
    plans = [make_plan(days_since_race=1) for _ in range(3)]
    ProtocolStep.objects.filter(protocol=protocol, key="ice").update(instruction="Ice for 15 minutes, wrapped.")
    today = clinic_today()

    results = run_together([lambda: protocol_update(protocol=protocol, today=today)] * 4)

    assert sorted(sum(update.plans for update in result) for result in results) == [0, 0, 0, 3]
    for plan in plans:
        from_tomorrow = plan.steps.filter(key="ice", valid_from=today + rules.ONE_DAY)
        assert list(from_tomorrow.values_list("instruction", flat=True)) == ["Ice for 15 minutes, wrapped."]


# -- The clinic's clock ------------------------------------------------------------------------------------------


def test_a_late_tick_being_saved_while_the_sweep_stores_last_week_is_not_lost():
    today = clinic_today()
    yesterday = today - rules.ONE_DAY
    plans = [make_plan(days_since_race=1, enrolled_days_ago=1) for _ in range(3)]
    ticked = plans[1]
    saving, release = threading.Event(), threading.Event()

    def late_tick():  # yesterday's forgotten ice, in a transaction that has not committed yet
        try:
            with transaction.atomic():
                completion_set(plan=ticked, step_key="ice", date=yesterday, count=3, today=today)
                saving.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=late_tick)
    thread.start()
    assert saving.wait(timeout=30)
    stored = last_week_store(today=today)
    release.set()
    thread.join(timeout=30)
    assert stored == 2  # the plan being ticked is skipped, not stored without its tick
    ticked.refresh_from_db()
    assert ticked.last_week_ends_on is None
    assert last_week_store(today=today) == 1  # the next sweep
    ticked.refresh_from_db()
    assert ticked.last_week_percent > 0

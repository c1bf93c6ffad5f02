import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories import ClinicianFactory, PatientFactory, ReceptionFactory, SuperuserFactory, make_plan


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2's 1.5 million iterations are right for people and far too slow for a test suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # Each test starts with an empty cache (Redis in CI, memory otherwise), as the database starts empty: a cached
    # session or protocol must not outlive the rows it was read from.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _at_midday():
    """Every test runs from noon of the clinic's today, its clock running. A test reads clinic_today() and the page
    it asks for reads it again: a run that crossed midnight between the two failed, as did one in the five minutes
    after it, when the clock does not yet store last week's share (summaries.LAST_WEEK_AFTER_MIDNIGHT). A test that
    travels itself goes where it says, and back to here after (time_machine nests). Only Python's clock moves: a
    test of an expiry kept by Redis, whose clock this does not move, uses the in-memory cache."""
    zone = timezone.get_default_timezone()
    noon = datetime.datetime.combine(datetime.datetime.now(zone).date(), datetime.time(12), zone)
    with time_machine.travel(noon, tick=True):
        yield


@pytest.fixture
def database_only(settings):
    """No shared cache: sessions and content come from the database, as when Redis is away. The query budgets
    are asserted here, their worst case (tests/test_cache.py asserts what a warm cache saves)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    settings.CONTENT_CACHE = False


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    # Tasks run inside the test, as they are queued; the tests of the worker itself (tests/test_worker.py)
    # switch back to the database backend and run the worker in batch mode.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def patient(db):
    return PatientFactory(email="alice@example.com", first_name="Alice")


@pytest.fixture
def other_patient(db):
    """Charlie must never see anything of Alice's."""
    return PatientFactory(email="charlie@example.com", first_name="Charlie")


@pytest.fixture
def reception(db):
    return ReceptionFactory(email="desk@example.com")


@pytest.fixture
def desk(client, reception):
    """Reception, signed in at the front desk."""
    client.force_login(reception)
    return client


@pytest.fixture
def clinician(db):
    return ClinicianFactory(email="physio@example.com")


@pytest.fixture
def superuser(db):
    return SuperuserFactory(email="admin@example.com")


@pytest.fixture
def plan(patient):
    return make_plan(patient, days_since_race=5)


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient)
    return client


@pytest.fixture
def clinician_client(clinician):
    """A browser of its own, so a test can hold the clinician's and the patient's side by side."""
    client = Client()
    client.force_login(clinician)
    return client

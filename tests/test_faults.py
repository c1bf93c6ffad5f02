"""Faults: a lost database shows a "try again shortly" page, oversized requests are refused politely, and a running
server recovers by itself when PostgreSQL drops its connections or refuses new ones for a while.

(/healthz against a closed port is tested in tests/test_accounts.py.)
"""

import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse

from tests.factories import PatientFactory, make_plan
from tests.live import database_url, gunicorn

TODAY = "/today/"
TRY_AGAIN = "Please try again shortly"


def _unreachable(self, sql, params=None):
    raise OperationalError("server closed the connection unexpectedly")


# -- The "try again shortly" page --------------------------------------------------------------------------------


def test_a_page_whose_database_fails_says_try_again_shortly(patient_client, plan, monkeypatch, caplog):
    with monkeypatch.context() as patch:
        # Every query fails from here on, the 503 page's own rendering included if it tried one.
        patch.setattr(CursorWrapper, "execute", _unreachable)
        response = patient_client.get(TODAY)
    assert response.status_code == 503
    page = response.content.decode()
    assert TRY_AGAIN in page and "data-service-unavailable" in page
    assert settings.CLINIC_PHONE in page
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert any(record.name == "clinic.errors" for record in caplog.records)


def test_a_form_post_whose_database_fails_says_try_again_shortly(patient_client, plan, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "execute", _unreachable)
        response = patient_client.post(reverse("recovery:check_in"), {"pain": "3"})
    assert response.status_code == 503
    assert TRY_AGAIN in response.content.decode()


class BrokenSessionMiddleware:
    """Reads the database outside any view, as a session-timeout middleware would."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise OperationalError("the connection pool timed out")


def test_a_database_lost_in_a_middleware_still_gets_the_friendly_page(client, db, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_faults.BrokenSessionMiddleware"]
    client.raise_request_exception = False
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 503
    assert TRY_AGAIN in response.content.decode()


def test_other_server_errors_keep_their_500_page(client, db, settings, monkeypatch):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_faults.BrokenSessionMiddleware"]
    monkeypatch.setattr(BrokenSessionMiddleware, "__call__", lambda self, request: 1 / 0)
    client.raise_request_exception = False
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    # What is true: the error is in the log (nobody is e-mailed a traceback, which may hold health data).
    assert "The error was recorded in the portal's log" in page and "told" not in page
    assert "Please try again in a few minutes" in page and "call the clinic" in page


def test_a_server_error_is_logged_as_an_error_with_its_traceback(client, db, settings, monkeypatch, caplog):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_faults.BrokenSessionMiddleware"]
    monkeypatch.setattr(BrokenSessionMiddleware, "__call__", lambda self, request: 1 / 0)
    client.raise_request_exception = False
    client.get(reverse("accounts:login"))
    [record] = [record for record in caplog.records if record.name == "django.request"]
    assert record.levelname == "ERROR" and record.exc_info[0] is ZeroDivisionError


def journal_lines(record, journal):
    from clinic.journal import JournalFormatter

    return JournalFormatter("%(levelname)s %(name)s %(message)s", journal=journal).format(record).split("\n")


def test_under_systemd_every_line_of_an_error_carries_the_journals_error_level():
    """Without the prefix the journal files every line at "info", and `journalctl -u apex-web -p err` shows nothing."""
    import logging
    import sys

    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        error = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: /today/", (),
                                  sys.exc_info())  # fmt: skip
    lines = journal_lines(error, journal=True)
    assert lines[0] == "<3>ERROR django.request Internal Server Error: /today/"
    assert len(lines) > 3 and all(line.startswith("<3>") for line in lines)  # the traceback too
    assert lines[-1] == "<3>ZeroDivisionError: division by zero"
    warning = logging.LogRecord("django_redis.cache", logging.WARNING, __file__, 1, "Redis is away", (), None)
    assert journal_lines(warning, journal=True) == ["<4>WARNING django_redis.cache Redis is away"]
    assert journal_lines(warning, journal=False) == ["WARNING django_redis.cache Redis is away"]  # a terminal


def test_the_prefix_is_used_only_when_standard_error_is_the_journal(monkeypatch):
    import logging
    import os

    from clinic.journal import JournalFormatter, stderr_is_journal

    [console] = [handler for handler in logging.getLogger().handlers if handler.filters]
    assert isinstance(console.formatter, JournalFormatter)  # the portal's log lines go through it
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    assert not stderr_is_journal()
    here = os.fstat(2)
    monkeypatch.setenv("JOURNAL_STREAM", f"{here.st_dev}:{here.st_ino + 1}")  # a child's inherited, now redirected
    assert not stderr_is_journal()
    monkeypatch.setenv("JOURNAL_STREAM", f"{here.st_dev}:{here.st_ino}")
    assert stderr_is_journal()


# -- A real server losing PostgreSQL, then getting it back --------------------------------------------------------

APP_NAME = "apex-live-test"


def _drop_server_connections():
    """End every connection the live server holds, as a PostgreSQL restart or a failover would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
            [APP_NAME],
        )
        return cursor.fetchone()[0]


def _allow_connections(allowed):
    # PostgreSQL refuses this from inside the database itself: say it from the maintenance database. ALTER
    # DATABASE takes no parameters: the name is the test database's own, quoted as an identifier.
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'true' if allowed else 'false'}")


def _wait_for(server, path, status, *, cookies=None, within):
    deadline = time.monotonic() + within
    while True:
        answer = server.get(path, cookies=cookies)
        if answer.status == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_terminate_backend needs PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_running_server_survives_dropped_connections_and_an_outage_without_a_restart():
    patient = PatientFactory()
    make_plan(patient)
    browser = Client()
    browser.force_login(patient)
    cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}

    with gunicorn(database=database_url(connection.settings_dict), app_name=APP_NAME) as server:
        assert server.get(TODAY, cookies=cookies).status == 200

        # 1. PostgreSQL ends the server's connections (a restart, a failover): the very next requests succeed,
        #    because the pool checks a connection before handing it out.
        assert _drop_server_connections() >= 1
        answer = server.get(TODAY, cookies=cookies)
        assert answer.status == 200, server.log_tail()
        assert "data-task" in answer.body
        assert server.get("/healthz").status == 200

        # 2. The database refuses connections for a while: pages say "try again shortly", /healthz says 503,
        #    each once the pool's 2-second wait for a connection is over (tests/test_settings.py).
        try:
            _allow_connections(False)
            _drop_server_connections()
            answer = server.get(TODAY, cookies=cookies)
            assert answer.status == 503, answer.body[:500]
            assert TRY_AGAIN in answer.body
            health = server.get("/healthz")
            assert health.status == 503
            print(f"503 page in {answer.seconds:.1f} s, healthz 503 in {health.seconds:.1f} s")
        finally:
            _allow_connections(True)

        # 3. It is back: the same server answers again, with no restart.
        started = time.monotonic()
        answer = _wait_for(server, TODAY, 200, cookies=cookies, within=20)
        assert answer.status == 200, server.log_tail()
        assert "data-task" in answer.body
        assert server.get("/healthz").status == 200
        assert server.process.poll() is None
        print(f"recovered {time.monotonic() - started:.1f} s after the database came back")

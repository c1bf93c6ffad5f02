"""Production: ``manage.py check_deployment``, the gunicorn configuration and the systemd units in deploy/."""

import configparser
import datetime
import runpy
import shlex
import socketserver
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs.heartbeats import SWEEP, heartbeat_beat, worker_name
from reminders.delivery import reminder_send
from tests.live import free_port
from tests.test_cache import NOBODY_LISTENS, TEST_REDIS_URL, use_redis

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def development(settings):
    # The development settings (debug on, so SQLite is fine), with the task backend of production.
    settings.DEBUG = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def check(capsys, *args):
    """Run check_deployment; return (passed, its output). These tests run in debug, so Django's own deployment
    checks are asked only for critical problems unless a test says otherwise."""
    try:
        call_command("check_deployment", *(args or ["--fail-level", "CRITICAL"]))
        passed = True
    except CommandError as error:
        passed = False
        print(error)
    captured = capsys.readouterr()
    return passed, captured.out + captured.err


def alive(now=None):
    now = now or timezone.now()
    heartbeat_beat(SWEEP, now)
    heartbeat_beat(worker_name("w1"), now)


def test_a_complete_deployment_passes(capsys):
    alive()
    passed, output = check(capsys)
    assert passed, output
    assert "The deployment is complete." in output and "PROBLEM" not in output


def test_it_says_when_the_sweep_never_ran(capsys):
    heartbeat_beat(worker_name("w1"))
    passed, output = check(capsys)
    assert not passed
    assert "PROBLEM  sweep: has never run" in output and "apex-sweep.timer" in output
    assert "The deployment is not complete: 1 problem(s)" in output


def test_it_says_when_the_sweep_stopped(capsys):
    alive()
    heartbeat_beat(SWEEP, timezone.now() - datetime.timedelta(hours=3))
    passed, output = check(capsys)
    assert not passed and "sweep: last ran 3 hour(s) ago" in output


def test_it_says_when_no_worker_is_alive(capsys):
    alive()
    heartbeat_beat(worker_name("w1"), timezone.now() - datetime.timedelta(minutes=10))
    passed, output = check(capsys)
    assert not passed and "worker: no worker alive: the last one was seen 10 minute(s) ago" in output


def test_it_says_when_tasks_wait_too_long(capsys, time_machine):
    time_machine.move_to(timezone.now() - datetime.timedelta(minutes=30))
    reminder_send.enqueue(1)
    time_machine.move_to(timezone.now() + datetime.timedelta(minutes=30))
    alive()
    passed, output = check(capsys)
    assert not passed and "task queue: 1 task(s) waiting, the oldest queued 30 minute(s) ago" in output


def test_it_says_when_tasks_are_run_in_the_request(capsys, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    alive()
    passed, output = check(capsys)
    assert not passed and "task backend: TASKS uses ImmediateBackend" in output


def test_production_without_redis_is_told_that_every_page_reads_the_database(capsys, settings):
    settings.DEBUG = False
    settings.CONTENT_CACHE = False
    alive()
    passed, output = check(capsys, "--fail-level", "CRITICAL")
    assert not passed
    assert "PROBLEM  shared cache (Redis): REDIS_URL is not set" in output


def test_it_says_when_redis_does_not_answer(capsys, settings, monkeypatch):
    use_redis(settings, monkeypatch, NOBODY_LISTENS)
    alive()
    passed, output = check(capsys)
    assert not passed
    assert "PROBLEM  shared cache (Redis): Redis at REDIS_URL does not answer" in output


def test_a_redis_that_answers_passes(capsys, settings, monkeypatch):
    use_redis(settings, monkeypatch, TEST_REDIS_URL)
    alive()
    passed, output = check(capsys)
    assert passed, output
    assert "ok       shared cache (Redis)" in output


def test_it_runs_djangos_deployment_checks(capsys):
    alive()
    passed, output = check(capsys, "--fail-level", "WARNING")
    assert not passed  # the tests run with debug on
    assert "security.W018" in output


def test_production_needs_postgresql_and_collected_static_files(capsys, settings, tmp_path, db):
    from django.db import connection

    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    alive()
    passed, output = check(capsys)
    assert not passed
    assert "static files: not collected" in output
    assert ("database engine: production runs on PostgreSQL" in output) == (connection.vendor != "postgresql")


def finished_task(status, minutes_ago, error=""):
    """A reminder's task as the worker leaves it, ``minutes_ago``."""
    result = reminder_send.enqueue(1)
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    DBTaskResult.objects.filter(pk=result.id).update(status=status, finished_at=at, exception_class_path=error)


def test_it_says_when_tasks_failed_in_the_last_hour(capsys):
    """The worker records a failed e-mail and goes on: the deployment looked complete while alerts failed."""
    alive()
    finished_task(TaskResultStatus.FAILED, 4, "smtplib.SMTPAuthenticationError")
    finished_task(TaskResultStatus.FAILED, 20, "smtplib.SMTPAuthenticationError")
    passed, output = check(capsys)
    assert not passed
    assert (
        "PROBLEM  failed tasks: 2 task(s) failed in the last hour with no success since (reminder_send ×2), the latest "
        "4 minute(s) ago (smtplib.SMTPAuthenticationError): e-mails are probably not leaving." in output
    )


def test_a_failure_followed_by_a_success_or_over_an_hour_old_passes(capsys):
    alive()
    finished_task(TaskResultStatus.FAILED, 90, "smtplib.SMTPConnectError")
    finished_task(TaskResultStatus.FAILED, 10, "smtplib.SMTPConnectError")
    finished_task(TaskResultStatus.SUCCESSFUL, 5)
    passed, output = check(capsys)
    assert passed, output
    assert "ok       failed tasks" in output


def settings_smtp(settings, port):
    options = {"host": "127.0.0.1", "port": port, "timeout": 5}
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}}


def test_it_says_when_the_mail_server_does_not_accept_a_connection(capsys, settings):
    port = free_port()  # nothing listens on it any more
    settings_smtp(settings, port)
    alive()
    passed, output = check(capsys)
    assert not passed
    assert f"PROBLEM  mail server: 127.0.0.1:{port} (EMAIL_URL) does not accept a connection" in output


class FakeSMTP(socketserver.StreamRequestHandler):
    """Just enough of a mail server to greet, answer EHLO and NOOP, and say goodbye; it records each command."""

    commands = []

    def handle(self):
        self.wfile.write(b"220 smtp.test ready\r\n")
        for line in self.rfile:
            command = line.decode().strip().upper()
            self.commands.append(command.split()[0])
            if command.startswith("EHLO"):
                self.wfile.write(b"250 smtp.test\r\n")
            elif command.startswith("QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_a_mail_server_that_answers_passes_and_gets_no_mail(capsys, settings):
    server = socketserver.TCPServer(("127.0.0.1", 0), FakeSMTP)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings_smtp(settings, server.server_address[1])
        alive()
        passed, output = check(capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert passed, output
    assert "ok       mail server\n" in output
    assert FakeSMTP.commands == ["EHLO", "NOOP", "QUIT"]  # no MAIL, RCPT or DATA


def test_mail_to_the_console_is_said_in_debug_and_a_problem_in_production(capsys, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    alive()
    passed, output = check(capsys)
    assert passed, output
    assert "ok       mail server: e-mail goes to the console backend, not to a mail server" in output
    settings.DEBUG = False
    passed, output = check(capsys)
    assert "PROBLEM  mail server: EMAIL_URL sends e-mail to the console backend" in output


# gunicorn.conf.py


def gunicorn_settings(monkeypatch, **env):
    for name in ("GUNICORN_BIND", "WEB_CONCURRENCY", "GUNICORN_FORWARDED_ALLOW_IPS", "GUNICORN_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_reads_its_address_and_processes_from_the_environment(monkeypatch):
    default = gunicorn_settings(monkeypatch)
    assert default["bind"] == "127.0.0.1:8000" and default["workers"] >= 2
    assert default["wsgi_app"] == "clinic.wsgi:application"
    chosen = gunicorn_settings(monkeypatch, GUNICORN_BIND="10.0.0.5:9000", WEB_CONCURRENCY="4")
    assert chosen["bind"] == "10.0.0.5:9000" and chosen["workers"] == 4


@pytest.mark.parametrize("bad", ["0", "two"])
def test_gunicorn_refuses_a_bad_number_of_processes(monkeypatch, bad):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY=bad)


def test_the_access_log_shows_neither_search_words_nor_the_secret_of_an_invitation_link(monkeypatch, capsys):
    """Reception's search sends names and dates of birth in the query string; an invitation link opens an account."""
    from gunicorn.config import Config

    conf = gunicorn_settings(monkeypatch)
    config = Config()
    for name in ("accesslog", "errorlog", "access_log_format", "logger_class"):
        config.set(name, conf[name])
    logger = config.logger_class(config)
    uris = ("/front-desk/?q=Dana+Scully+26%2F04%2F1990", "/welcome/MTI/cx1k2-9f8e7d6c5b4a/", "/today/")
    # Copied without its closing slash: logged before APPEND_SLASH redirects it.
    uris += ("/reminders/unsubscribe/eyJ1IjozfQ:1v2x3y", "/accounts/password/sent/")
    for uri in uris:
        path, _, query = uri.partition("?")
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": uri, "PATH_INFO": path, "QUERY_STRING": query}
        environ.update(SERVER_PROTOCOL="HTTP/1.1", REMOTE_ADDR="10.0.0.9")
        response = SimpleNamespace(status="200 OK", sent=512, headers=[])
        logger.access(response, SimpleNamespace(headers=[]), environ, datetime.timedelta(milliseconds=7))
    log = capsys.readouterr()
    log = log.out + log.err
    assert '"GET /front-desk/?… HTTP/1.1" 200 512 7ms' in log
    assert '"GET /welcome/[link]/ HTTP/1.1" 200' in log
    assert '"GET /today/ HTTP/1.1" 200' in log and '"GET /accounts/password/sent/ HTTP/1.1"' in log
    assert '"GET /reminders/unsubscribe/[link]/ HTTP/1.1"' in log
    assert "Scully" not in log and "1990" not in log and "9f8e7d6c5b4a" not in log and "1v2x3y" not in log


def test_djangos_own_log_lines_show_no_secret_of_a_link(db):
    """A database outage logged "Service Unavailable: /welcome/Mw/<token>/", a token still good afterwards."""
    import logging

    [console] = [handler for handler in logging.getLogger().handlers if handler.filters]
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Service Unavailable: %s", ("/welcome/Mw/dioot5-9f8e7d/",), None
    )
    assert console.filter(record) and record.getMessage() == "Service Unavailable: /welcome/[link]/"
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Method Not Allowed (HEAD): /reminders/unsubscribe/Mw:1xW:abc/",
        None, None,
    )  # fmt: skip
    assert console.filter(record) and record.getMessage().endswith("/reminders/unsubscribe/[link]/")


def test_a_mail_scanners_head_request_on_an_opt_out_link_is_answered_and_leaves_the_reminders_on(client, patient):
    from reminders.models import ReminderSettings
    from reminders.tokens import unsubscribe_token

    ReminderSettings.objects.create(user=patient, enabled=True)
    response = client.head(f"/reminders/unsubscribe/{unsubscribe_token(patient)}/")
    assert response.status_code == 200
    # Only the patient's own POST from the page, or their mail client's one-click POST, turns them off.
    assert ReminderSettings.objects.get(user=patient).enabled is True


# deploy/


def unit(name):
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(ROOT / "deploy" / name)
    return parser


@pytest.mark.parametrize(
    ("name", "command"),
    [("apex-worker.service", "worker"), ("apex-sweep.service", "sweep")],
)
def test_the_services_run_commands_that_exist(name, command):
    args = shlex.split(unit(name)["Service"]["ExecStart"])
    assert args[1:3] == ["manage.py", command] and command in get_commands()
    assert unit(name)["Service"]["EnvironmentFile"] == "/etc/apex-recovery/apex.env"


def test_the_timer_runs_the_sweep_every_minute():
    assert unit("apex-sweep.timer")["Timer"]["OnCalendar"] == "*-*-* *:*:00"


def test_the_web_service_runs_gunicorn_from_the_project_folder():
    service = unit("apex-web.service")["Service"]
    assert service["ExecStart"].endswith("/.venv/bin/gunicorn") and service["WorkingDirectory"] == "/srv/apex-recovery"


def test_the_proxy_example_sets_the_header_django_trusts():
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in (ROOT / "deploy" / "nginx.conf").read_text()


def test_the_proxy_refuses_what_the_portal_would_and_shows_the_portals_own_413_page(client, settings):
    """Between the portal's 3 MB and nginx's old 4 MB, gunicorn answered 413 unread and closed, and nginx showed a
    502 one time in three (checked with nginx 1.22: 30 posts of 3.5 MB, now 30 times the portal's page)."""
    import re

    from django.urls import resolve

    from clinic.errors import too_big_page

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    [limit] = re.findall(r"^\s*client_max_body_size (\d+)m;", conf, re.MULTILINE)
    assert int(limit) * 1024 * 1024 == settings.REQUEST_MAX_BYTES
    [page] = re.findall(r"^\s*error_page 413 (\S+);", conf, re.MULTILINE)
    assert resolve(page).func is too_big_page
    [location] = re.findall(r"location = " + re.escape(page) + r" \{(.*?)\}", conf, re.DOTALL)
    assert "internal;" in location and "proxy_pass_request_body off;" in location
    # A location with a proxy header of its own inherits none: the ones Django relies on are repeated.
    assert "proxy_set_header Host $host;" in location and "proxy_set_header X-Forwarded-Proto $scheme;" in location

    response = client.get(page)
    assert response.status_code == 413
    assert "That was too much to send at once" in response.content.decode()


def test_make_runs_links_in_e_mails_point_at_the_port_it_serves(tmp_path):
    """``make run PORT=8001``: an invitation's link must open that server, not the default port's."""
    import os
    import subprocess

    seen = tmp_path / "seen"
    # Stands in for the three processes: records what it was given, then lives a moment, as a real one would, so
    # that the first to stop does not take the others down before they have started (a race under load in CI).
    fake_python = tmp_path / "python"
    fake_python.write_text(f'#!/bin/sh\necho "$DJANGO_SITE_URL $*" >> {seen}\nsleep 2\n')
    fake_python.chmod(0o755)
    env = {**os.environ, "PY": str(fake_python), "PORT": "8123"}
    env.pop("DJANGO_SITE_URL", None)
    root = Path(__file__).resolve().parent.parent
    subprocess.run(["bash", str(root / "bin" / "dev-server")], env=env, capture_output=True, timeout=30, check=False)
    lines = seen.read_text().splitlines()
    assert len(lines) == 3 and all(line.startswith("http://127.0.0.1:8123 manage.py") for line in lines), lines


def test_the_backup_runs_every_night_with_the_portals_environment():
    timer = unit("apex-backup.timer")["Timer"]
    assert timer["OnCalendar"] == "*-*-* 02:30:00" and timer["Persistent"] == "true"
    service = unit("apex-backup.service")["Service"]
    assert service["ExecStart"] == "/srv/apex-recovery/bin/backup" and service["User"] == "apex"
    assert service["EnvironmentFile"] == "/etc/apex-recovery/apex.env"


def run_backup(tmp_path, check_exit=0, keep_days="14"):
    """bin/backup with a stand-in for the restore check that writes the dump it is asked to keep (or fails)."""
    import os
    import subprocess

    fake_python = tmp_path / "python"
    fake_python.write_text(f'#!/bin/sh\n[ "$2" = --keep-dump ] && echo dump > "$3"\nexit {check_exit}\n')
    fake_python.chmod(0o755)
    folder = tmp_path / "backups"
    env = {**os.environ, "PY": str(fake_python), "APEX_BACKUP_DIR": str(folder), "APEX_BACKUP_KEEP_DAYS": keep_days}
    # The caller's umask must not matter: dumps are health data.
    result = subprocess.run(
        ["sh", "-c", f"umask 022; exec {ROOT / 'bin' / 'backup'}"], env=env, capture_output=True, text=True, timeout=30
    )
    return result, folder


def written_days_ago(path, days):
    import os
    import time

    path.parent.mkdir(exist_ok=True)
    path.write_text("old dump")
    stamp = time.time() - days * 24 * 60 * 60
    os.utime(path, (stamp, stamp))


def test_the_backup_keeps_a_dated_dump_only_its_owner_reads_and_deletes_those_past_fourteen_days(tmp_path):
    folder = tmp_path / "backups"
    written_days_ago(folder / "apex-old.dump", 15)
    written_days_ago(folder / "apex-recent.dump", 13)
    written_days_ago(folder / "notes.txt", 30)
    result, folder = run_backup(tmp_path)
    assert result.returncode == 0, result.stderr
    today = folder / f"apex-{datetime.date.today():%Y-%m-%d}.dump"
    assert today.read_text() == "dump\n"
    assert today.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in folder.iterdir()) == sorted([today.name, "apex-recent.dump", "notes.txt"])


def test_a_backup_that_fails_its_restore_check_deletes_no_older_dump(tmp_path):
    written_days_ago(tmp_path / "backups" / "apex-old.dump", 20)
    result, folder = run_backup(tmp_path, check_exit=1)
    assert result.returncode != 0
    assert (folder / "apex-old.dump").exists()


def test_the_backup_refuses_a_number_of_days_that_is_not_one(tmp_path):
    result, _folder = run_backup(tmp_path, keep_days="two weeks")
    assert result.returncode == 2 and "APEX_BACKUP_KEEP_DAYS must be a whole number" in result.stderr

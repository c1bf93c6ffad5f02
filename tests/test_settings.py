"""Settings come from the environment, and a bad value stops start-up with a message naming the variable."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import mailers

from clinic.env import env_bool, env_database, env_int, env_mailer, env_time_zone, env_url

BASE_DIR = Path(settings.BASE_DIR)
SETTINGS_FILE = BASE_DIR / "clinic" / "settings.py"

# Every variable clinic/settings.py reads: cleared before each load so the machine's own environment
# (a developer's DATABASE_URL, CI's variables) cannot leak into what a test sees.
VARIABLES = [
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_SITE_URL",
    "CLINIC_NAME",
    "CLINIC_PHONE",
    "CLINIC_DUTY_EMAIL",
    "CLINIC_TIME_ZONE",
    "DATABASE_URL",
    "DATABASE_POOL_MAX_SIZE",
    "INVITATION_VALID_DAYS",
    "EMAIL_URL",
    "DJANGO_DEFAULT_FROM_EMAIL",
    "DJANGO_SECURE_SSL_REDIRECT",
    "DJANGO_LOG_LEVEL",
    # Security and audit (issue 7)
    "SIGN_IN_LOCKOUT_FAILURES",
    "SIGN_IN_LOCKOUT_MINUTES",
    "DJANGO_2FA_REQUIRED_FOR_SUPERUSERS",
    "SESSION_STAFF_IDLE_MINUTES",
    "SESSION_STAFF_MAX_HOURS",
    "SESSION_PATIENT_DAYS",
    "DJANGO_TRUST_X_FORWARDED_FOR",
    "REDIS_URL",
]

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-production-key-" + "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "recovery.apex.example",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://recovery.apex.example",
    "DJANGO_SITE_URL": "https://recovery.apex.example",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.apex.example:587",
    "DJANGO_DEFAULT_FROM_EMAIL": "Apex Sports Clinic <no-reply@apex.example>",
    "CLINIC_DUTY_EMAIL": "duty@apex.example",
    "DATABASE_URL": "postgres://apex:pw@db.apex.example:5432/apex",
}


def load_settings(monkeypatch, **env):
    """Run clinic/settings.py as a fresh module under ``env``; the running Django's settings stay untouched."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def production(**changes):
    env = {**PRODUCTION, **changes}
    return {name: value for name, value in env.items() if value is not None}


# The helpers


@pytest.mark.parametrize("word", ["true", "TRUE", "yes", "on", "1"])
def test_env_bool_reads_yes_words_as_true(monkeypatch, word):
    monkeypatch.setenv("DJANGO_DEBUG", word)
    assert env_bool("DJANGO_DEBUG") is True


@pytest.mark.parametrize("word", ["false", "no", "off", "0"])
def test_env_bool_reads_no_words_as_false(monkeypatch, word):
    monkeypatch.setenv("DJANGO_DEBUG", word)
    assert env_bool("DJANGO_DEBUG", True) is False


def test_env_bool_refuses_maybe_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG.*'maybe'"):
        env_bool("DJANGO_DEBUG")


def test_env_int_refuses_words_and_numbers_below_the_minimum(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "lots")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_MAX_SIZE must be a whole number"):
        env_int("DATABASE_POOL_MAX_SIZE", 8, minimum=1)
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "0")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_MAX_SIZE must be at least 1"):
        env_int("DATABASE_POOL_MAX_SIZE", 8, minimum=1)


@pytest.mark.parametrize(
    "url", ["not-a-url", "postgres://", "postgres://apex@db:port/apex", "mongodb://db/apex", "postgres://apex@db/"]
)
def test_env_database_refuses_a_malformed_url_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="^DATABASE_URL "):
        env_database("DATABASE_URL", "sqlite:///db.sqlite3")


def test_env_database_reads_a_postgres_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://apex:s3cret@db.example:6543/recovery")
    config = env_database("DATABASE_URL", "sqlite:///db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 6543, "recovery")
    assert (config["USER"], config["PASSWORD"]) == ("apex", "s3cret")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "GMT+25", "../etc/passwd"])
def test_env_time_zone_refuses_an_unknown_zone(monkeypatch, zone):
    monkeypatch.setenv("CLINIC_TIME_ZONE", zone)
    with pytest.raises(ImproperlyConfigured, match="CLINIC_TIME_ZONE must be a time zone name"):
        env_time_zone("CLINIC_TIME_ZONE", "Europe/London")


@pytest.mark.parametrize(
    "url", ["recovery.apex.example", "ftp://recovery.apex.example", "https://", "https://a b", "https://x.example/?a=1"]
)
def test_env_url_refuses_anything_but_an_absolute_web_address(monkeypatch, url):
    monkeypatch.setenv("DJANGO_SITE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SITE_URL must be an absolute"):
        env_url("DJANGO_SITE_URL", "http://127.0.0.1:8000")


def test_env_url_drops_the_trailing_slash_so_paths_join_cleanly(monkeypatch):
    monkeypatch.setenv("DJANGO_SITE_URL", "https://recovery.apex.example/")
    assert env_url("DJANGO_SITE_URL", "http://127.0.0.1:8000") == "https://recovery.apex.example"


def test_email_url_with_starttls_user_password_and_port_becomes_an_smtp_mailer(monkeypatch, settings):
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://clinic%40apex.example:p%3Ass@smtp.apex.example:2525")
    mailer = env_mailer("EMAIL_URL", debug=False)
    assert mailer == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "smtp.apex.example",
            "port": 2525,
            "username": "clinic@apex.example",
            "password": "p:ss",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 10,
        },
    }
    # Django itself accepts it as a mailer (no connection is opened until a message is sent).
    settings.MAILERS = {"default": mailer}
    backend = mailers["default"]
    assert (backend.host, backend.port, backend.username, backend.use_tls) == (
        "smtp.apex.example",
        2525,
        "clinic@apex.example",
        True,
    )


@pytest.mark.parametrize(
    ("url", "port", "use_tls", "use_ssl"),
    [
        ("smtp://relay.apex.example", 25, False, False),
        ("smtp+tls://relay.apex.example", 587, True, False),
        ("smtp+ssl://relay.apex.example", 465, False, True),
    ],
)
def test_email_url_scheme_chooses_encryption_and_default_port(monkeypatch, url, port, use_tls, use_ssl):
    monkeypatch.setenv("EMAIL_URL", url)
    options = env_mailer("EMAIL_URL", debug=False)["OPTIONS"]
    assert (options["port"], options["use_tls"], options["use_ssl"]) == (port, use_tls, use_ssl)


@pytest.mark.parametrize(
    "url", ["http://smtp.apex.example", "smtp+tls://", "smtp+tls://smtp.apex.example:abc", "smtp://h?timeout=soon"]
)
def test_email_url_refuses_what_it_cannot_send_with(monkeypatch, url):
    monkeypatch.setenv("EMAIL_URL", url)
    with pytest.raises(ImproperlyConfigured, match="^EMAIL_URL "):
        env_mailer("EMAIL_URL", debug=False)


def test_email_url_missing_prints_mail_to_the_console_in_debug_only(monkeypatch):
    monkeypatch.delenv("EMAIL_URL", raising=False)
    assert env_mailer("EMAIL_URL", debug=True) == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL must be set when DJANGO_DEBUG is off"):
        env_mailer("EMAIL_URL", debug=False)


# The settings module as a whole


def test_settings_refuse_debug_maybe(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        load_settings(monkeypatch, **production(DJANGO_DEBUG="maybe"))


def test_settings_refuse_to_start_in_production_without_a_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **production(DJANGO_SECRET_KEY=None))


def test_settings_refuse_to_start_in_production_without_an_email_url(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **production(EMAIL_URL=None))


def test_settings_refuse_to_start_in_production_without_a_database_url(monkeypatch):
    # Otherwise production started on a new, empty db.sqlite3, and /healthz answered 200 from it.
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be set when DJANGO_DEBUG is off: the PostgreSQL"):
        load_settings(monkeypatch, **production(DATABASE_URL=None))


@pytest.mark.parametrize("hosts", [None, "", " , "])
def test_settings_refuse_to_start_in_production_without_allowed_hosts(monkeypatch, hosts):
    # Otherwise every request was answered "Bad Request (400)", with the reason only in the log.
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **production(DJANGO_ALLOWED_HOSTS=hosts))


def test_settings_refuse_a_malformed_database_url(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        load_settings(monkeypatch, **production(DATABASE_URL="postgres//db.apex.example/apex"))


def test_settings_refuse_a_bad_clinic_time_zone(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="CLINIC_TIME_ZONE"):
        load_settings(monkeypatch, **production(CLINIC_TIME_ZONE="Europe/Atlantis"))


def test_settings_refuse_a_bad_site_url(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SITE_URL"):
        load_settings(monkeypatch, **production(DJANGO_SITE_URL="recovery.apex.example"))


def test_settings_refuse_to_start_in_production_without_the_public_site_url(monkeypatch):
    # Otherwise password-reset links in e-mails would point at http://127.0.0.1:8000.
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SITE_URL must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **production(DJANGO_SITE_URL=None))


def test_settings_refuse_to_start_in_production_without_the_duty_mailbox(monkeypatch):
    # Otherwise a red-flag alert for a patient without a clinician would go to duty@apex.test: to nobody.
    with pytest.raises(ImproperlyConfigured, match="CLINIC_DUTY_EMAIL must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **production(CLINIC_DUTY_EMAIL=None))


def test_settings_refuse_to_start_in_production_without_a_sender(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEFAULT_FROM_EMAIL must be set when DJANGO_DEBUG is off"):
        load_settings(monkeypatch, **production(DJANGO_DEFAULT_FROM_EMAIL=None))


@pytest.mark.parametrize("sender", ["Apex Sports Clinic", "Apex <no-reply>", "no reply@apex.example"])
def test_settings_refuse_a_sender_that_is_not_an_address(monkeypatch, sender):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEFAULT_FROM_EMAIL must be an e-mail address"):
        load_settings(monkeypatch, **production(DJANGO_DEFAULT_FROM_EMAIL=sender))


def smtp_takes(value):
    """Whether Django's SMTP backend would take ``value`` as a sender or recipient (it refuses the whole e-mail
    otherwise, "Invalid address")."""
    from django.core.mail.backends.smtp import EmailBackend

    try:
        EmailBackend.prep_address(None, value)  # reads nothing of the backend itself
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "duty",
    ["duty@apex.example,oncall@apex.example", "duty@apex.example, oncall@apex.example", "a@x.example;b@x.example"],
)
def test_settings_refuse_a_list_of_duty_addresses_and_say_what_to_use(monkeypatch, duty):
    """A list passed start-up and check --deploy, then every alert e-mail failed."""
    assert not smtp_takes(duty)
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(monkeypatch, **production(CLINIC_DUTY_EMAIL=duty))
    assert str(refused.value).startswith("CLINIC_DUTY_EMAIL must be one e-mail address, not several: for several")
    assert "use the address of a mailing list or an alias that forwards to them" in str(refused.value)


@pytest.mark.parametrize("duty", ["duty@apex", "duty@apex.example.", "duty@@apex.example", "Duty <duty@apex.example>"])
def test_settings_refuse_a_duty_address_that_is_not_one(monkeypatch, duty):
    with pytest.raises(ImproperlyConfigured, match="CLINIC_DUTY_EMAIL must be an e-mail address; got"):
        load_settings(monkeypatch, **production(CLINIC_DUTY_EMAIL=duty))


@pytest.mark.parametrize(
    "sender",
    [
        "Apex <no-reply@apex.example",  # no ">": the mail server refuses it
        "Apex no-reply@apex.example",
        "no-reply@apex.example (Apex)",
        "St. John's Clinic <no-reply@apex.example>",  # a full stop outside quotes: refused when sending
        "Apex <no-reply@apex.example>, Desk <desk@apex.example>",
    ],
)
def test_settings_refuse_a_sender_that_is_not_an_address_or_a_name_and_an_address(monkeypatch, sender):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEFAULT_FROM_EMAIL must be"):
        load_settings(monkeypatch, **production(DJANGO_DEFAULT_FROM_EMAIL=sender))


@pytest.mark.parametrize(
    "sender",
    [
        "no-reply@apex.example",
        "Apex Sports Clinic <no-reply@apex.example>",
        '"St. John\'s Clinic" <no-reply@apex.example>',
    ],
)
def test_a_sender_that_starts_the_portal_is_one_the_mail_server_takes(monkeypatch, sender):
    assert load_settings(monkeypatch, **production(DJANGO_DEFAULT_FROM_EMAIL=sender)).DEFAULT_FROM_EMAIL == sender
    assert smtp_takes(sender)


def test_a_clinic_name_with_a_full_stop_makes_a_default_sender_that_works(monkeypatch):
    dev = load_settings(monkeypatch, DJANGO_DEBUG="true", CLINIC_NAME="Apex Ltd.")
    assert dev.DEFAULT_FROM_EMAIL == '"Apex Ltd." <no-reply@apex.test>' and smtp_takes(dev.DEFAULT_FROM_EMAIL)


def test_production_mail_goes_to_and_from_the_clinics_own_addresses(monkeypatch):
    prod = load_settings(monkeypatch, **PRODUCTION)
    assert prod.CLINIC_DUTY_EMAIL == "duty@apex.example"
    assert prod.DEFAULT_FROM_EMAIL == prod.SERVER_EMAIL == "Apex Sports Clinic <no-reply@apex.example>"


def test_debug_keeps_the_development_mail_addresses(monkeypatch):
    dev = load_settings(monkeypatch, DJANGO_DEBUG="true")
    assert dev.CLINIC_DUTY_EMAIL == "duty@apex.test"
    assert dev.DEFAULT_FROM_EMAIL == "Apex Sports Clinic <no-reply@apex.test>"


def test_the_example_env_file_sets_everything_production_requires(monkeypatch):
    """deploy/apex.env.example, with a secret key filled in (left empty on purpose), starts the portal."""
    import shlex

    env = {}
    for line in (BASE_DIR / "deploy" / "apex.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            if name in VARIABLES:
                env[name] = shlex.split(value)[0] if value else ""
    env["DJANGO_SECRET_KEY"] = "example-" + "x" * 50
    prod = load_settings(monkeypatch, **env)
    assert prod.DEBUG is False
    assert prod.CLINIC_DUTY_EMAIL == "duty@apexclinic.example"


def test_settings_refuse_an_invitation_lifetime_below_one_day(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="INVITATION_VALID_DAYS must be at least 1"):
        load_settings(monkeypatch, **production(INVITATION_VALID_DAYS="0"))


def test_debug_settings_need_no_secrets_and_use_sqlite_and_the_console(monkeypatch):
    dev = load_settings(monkeypatch, DJANGO_DEBUG="true")
    assert dev.DEBUG is True
    assert dev.SECRET_KEY
    assert dev.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert dev.DATABASES["default"]["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert dev.MAILERS["default"]["BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert "127.0.0.1" in dev.ALLOWED_HOSTS
    assert dev.SITE_URL == "http://127.0.0.1:8000"
    assert not getattr(dev, "SECURE_SSL_REDIRECT", False)


def test_without_redis_each_process_caches_for_itself_and_sessions_stay_in_the_database(monkeypatch):
    dev = load_settings(monkeypatch, DJANGO_DEBUG="true")
    assert dev.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert (
        getattr(dev, "SESSION_ENGINE", "django.contrib.sessions.backends.db") == "django.contrib.sessions.backends.db"
    )


def test_with_redis_the_cache_is_shared_and_sessions_are_read_from_it(monkeypatch):
    prod = load_settings(monkeypatch, **production(REDIS_URL="redis://cache.apex.example:6379/0"))
    cache = prod.CACHES["default"]
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "redis://cache.apex.example:6379/0"
    assert cache["OPTIONS"]["IGNORE_EXCEPTIONS"] is True  # Redis away: a miss, never an error page
    assert prod.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"


def test_settings_refuse_a_redis_url_that_is_not_one(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be a redis:// URL"):
        load_settings(monkeypatch, **production(REDIS_URL="http://cache.apex.example:6379"))


def test_production_settings_trust_the_tls_proxy_and_insist_on_https(monkeypatch):
    prod = load_settings(monkeypatch, **PRODUCTION)
    assert prod.DEBUG is False
    assert prod.SECRET_KEY == PRODUCTION["DJANGO_SECRET_KEY"]
    assert prod.ALLOWED_HOSTS == ["recovery.apex.example"]
    assert prod.CSRF_TRUSTED_ORIGINS == ["https://recovery.apex.example"]
    assert prod.SITE_URL == "https://recovery.apex.example"
    assert prod.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
    assert prod.SECURE_SSL_REDIRECT is True
    assert prod.SECURE_HSTS_SECONDS >= 365 * 24 * 60 * 60
    assert prod.SESSION_COOKIE_SECURE is True
    assert prod.CSRF_COOKIE_SECURE is True
    assert prod.MAILERS["default"]["OPTIONS"]["host"] == "smtp.apex.example"


def test_production_settings_have_a_strict_content_security_policy(monkeypatch):
    prod = load_settings(monkeypatch, **PRODUCTION)
    policy = prod.SECURE_CSP
    flattened = " ".join(str(source) for sources in policy.values() for source in sources)
    assert "unsafe-inline" not in flattened
    assert "unsafe-eval" not in flattened
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_production_postgres_uses_a_pool_that_gives_up_quickly(monkeypatch):
    prod = load_settings(monkeypatch, **production(DATABASE_POOL_MAX_SIZE="4"))
    database = prod.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    # A pool needs CONN_MAX_AGE 0; short timeouts to wait for a pooled connection and to open a new one let
    # /healthz answer 503 within seconds when the database is gone (psycopg would wait 30 s for the pool).
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"]["pool"]["max_size"] == 4
    assert database["OPTIONS"]["pool"]["timeout"] == 2
    assert database["OPTIONS"]["connect_timeout"] == 2


def test_a_database_url_that_requires_tls_keeps_requiring_it(monkeypatch):
    url = "postgres://apex:secret@db.apex.example:5432/apex?sslmode=require"
    options = load_settings(monkeypatch, **production(DATABASE_URL=url)).DATABASES["default"]["OPTIONS"]
    assert options["sslmode"] == "require"  # DEPLOY.md's advice for a database on another machine
    assert options["pool"]["timeout"] <= 2  # with the portal's own options beside it


def test_prepared_statements_can_be_turned_off_for_a_pooler_that_cannot_keep_them(monkeypatch):
    default = load_settings(monkeypatch, **production()).DATABASES["default"]["OPTIONS"]
    assert default["server_side_binding"] is True and default["prepare_threshold"] == 1
    off = load_settings(monkeypatch, **production(DATABASE_PREPARED_STATEMENTS="false")).DATABASES["default"]
    assert off["OPTIONS"]["prepare_threshold"] is None


def test_deploy_check_reports_nothing_with_production_settings():
    env = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="clinic.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_production_runs_with_debug_on():
    env = {name: value for name, value in os.environ.items() if name not in VARIABLES}
    env.update(PRODUCTION, DJANGO_DEBUG="true", DJANGO_SETTINGS_MODULE="clinic.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


# The policy is sent


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/password/reset/", "/healthz", "/admin/login/", "/no-such-page/"]
)
def test_every_page_carries_a_content_security_policy(client, db, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_pages_behind_login_carry_the_policy_too(client, clinician):
    client.force_login(clinician)
    for url in ["/admin/", "/admin/recovery/tip/", "/accounts/password/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


def _sqlite_connection(path, options):
    from django.db.backends.sqlite3.base import DatabaseWrapper
    from django.db.utils import ConnectionHandler

    settings_dict = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3"}}).settings["default"]
    return DatabaseWrapper({**settings_dict, "NAME": str(path), "OPTIONS": options})


def _begin(connection):
    """What ``transaction.atomic`` does first on SQLite (its BEGIN, with the settings' transaction mode)."""
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


@pytest.mark.parametrize("use_settings", [True, False], ids=["first-run settings", "SQLite's defaults"])
def test_on_sqlite_a_write_waits_for_another_process_instead_of_failing(
    monkeypatch, tmp_path, django_db_blocker, use_settings
):
    """``make run``'s web server and worker share one file: a check-in saved while the worker writes must wait for
    it, not fail with "database is locked" (seen once in the demo: the check-in was lost)."""
    import threading
    import time

    from django.db import OperationalError

    options = load_settings(monkeypatch, DJANGO_DEBUG="true").DATABASES["default"]["OPTIONS"] if use_settings else {}
    path = tmp_path / "db.sqlite3"
    outcome = []
    has_read = threading.Event()

    def save_a_check_in():  # update_or_create in a transaction: a read, then a write
        web = _sqlite_connection(path, options)
        try:
            _begin(web)
            with web.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM checkin")
                has_read.set()
                time.sleep(0.2)  # the worker commits its write meanwhile
                cursor.execute("INSERT INTO checkin VALUES (8)")
            web.commit()
            outcome.append("saved")
        except OperationalError as error:
            outcome.append(str(error))
        finally:
            web.close()

    with django_db_blocker.unblock():
        worker = _sqlite_connection(path, options)
        with worker.cursor() as cursor:
            cursor.execute("CREATE TABLE checkin (pain integer)")
        _begin(worker)
        with worker.cursor() as cursor:
            cursor.execute("INSERT INTO checkin VALUES (1)")  # the worker holds the write lock
        thread = threading.Thread(target=save_a_check_in)
        thread.start()
        has_read.wait(timeout=0.5)  # with the settings, the check-in waits at its BEGIN and never gets to read
        worker.commit()
        thread.join()
        worker.close()
    assert (outcome == ["saved"]) is use_settings, outcome


def test_old_secret_keys_can_be_kept_while_the_key_is_rotated(monkeypatch):
    rotated = load_settings(monkeypatch, **production(DJANGO_SECRET_KEY_FALLBACKS="old-key-1, old-key-2"))
    assert rotated.SECRET_KEY_FALLBACKS == ["old-key-1", "old-key-2"]
    monkeypatch.delenv("DJANGO_SECRET_KEY_FALLBACKS")
    assert load_settings(monkeypatch, **production()).SECRET_KEY_FALLBACKS == []

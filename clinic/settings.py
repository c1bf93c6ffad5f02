"""Apex Recovery settings: one module, read from the environment (see the settings table in README.md)."""

import datetime
from email.utils import formataddr
from pathlib import Path

from django.utils.csp import CSP

from clinic.env import (
    env_bool,
    env_cache,
    env_database,
    env_email,
    env_int,
    env_list,
    env_mailer,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

# A development key is only ever used with debug on; production must bring its own.
SECRET_KEY = (
    env_str(
        "DJANGO_SECRET_KEY",
        required=not DEBUG,
        why=" when DJANGO_DEBUG is off (make one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')",
    )
    or "dev-only-insecure-key-never-used-in-production"
)
# Rotating the key (DEPLOY.md): the old one here for a while keeps sessions and invitation links signed with it
# working until they run out, instead of signing everyone out and killing every link at once.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")

# Required in production: with none, Django answers every request "Bad Request (400)" and says why only in the log.
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    ["127.0.0.1", "localhost", "testserver"],
    required=not DEBUG,
    why=" when DJANGO_DEBUG is off: the portal's host names, comma-separated, e.g. recovery.apexclinic.example",
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The public base URL: links in e-mails and QR codes are built without a request. Production must name its
# own, or password-reset and invitation e-mails would send people to the developer's machine.
SITE_URL = env_url(
    "DJANGO_SITE_URL",
    "http://127.0.0.1:8000",
    required=not DEBUG,
    why=" when DJANGO_DEBUG is off: the portal's public address, e.g. https://recovery.example.org",
)

CLINIC_NAME = env_str("CLINIC_NAME", "Apex Sports Clinic")
CLINIC_PHONE = env_str("CLINIC_PHONE", "+44 20 7946 0000")
# Red-flag and inactivity alerts go here (and to the plan's clinician, when there is one): for a patient without a
# clinician this is the only reader, so production must name a mailbox someone reads, not the developer's default.
CLINIC_DUTY_EMAIL = env_email(
    "CLINIC_DUTY_EMAIL",
    "duty@apex.test",
    required=not DEBUG,
    why=" when DJANGO_DEBUG is off: the mailbox that receives urgent alerts, e.g. duty@apexclinic.example",
)
TIME_ZONE = env_time_zone("CLINIC_TIME_ZONE", "Europe/London")
USE_TZ = True
LANGUAGE_CODE = "en-gb"
USE_I18N = True

INSTALLED_APPS = [
    "clinic.admin_site.ClinicAdminConfig",  # django.contrib.admin, with its ids checked
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    # The project's own package, installed for its template tags (clinic/templatetags: what e-mails say of the
    # clinic); it has no models.
    "clinic",
    "accounts",
    "recovery",
    # The task worker, the clinic's clock and reminders (issue 10; docs/DEPLOY.md).
    "django_tasks_db",
    "jobs",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # An htmx request answered with a redirect or an error reloads the page instead (clinic/htmx_reload.py).
    "clinic.htmx_reload.HtmxReloadMiddleware",
    # Says on the login page that a form sent after its session ended was not saved (inside HtmxReloadMiddleware,
    # so it sees a tick's redirect to the login page before that becomes a reload).
    "accounts.middleware.UnsavedPostMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "clinic.errors.MethodNotAllowedMiddleware",  # a page in plain words for Django's blank 405
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
            # {% link %} and |day: {% url %} and |date with their answers kept (clinic/links.py, clinic/dates.py).
            "builtins": ["clinic.links", "clinic.dates"],
        },
    },
]

# The SQLite file is for development: production without DATABASE_URL started on a new, empty db.sqlite3, and
# /healthz answered 200 from it.
DATABASES = {
    "default": env_database(
        "DATABASE_URL",
        f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        required=not DEBUG,
        why=" when DJANGO_DEBUG is off: the PostgreSQL database, e.g. postgres://apex:secret@127.0.0.1:5432/apex",
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's pool keeps connections warm; a short acquire timeout lets /healthz answer 503 quickly
    # when the database is gone instead of waiting psycopg's default 30 seconds.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # What the URL asks for first (?sslmode=require for a database on another machine: DEPLOY.md).
        **DATABASES["default"].get("OPTIONS", {}),
        "connect_timeout": 2,
        "pool": {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 8, minimum=1),
            "timeout": 2,
        },
        # Parameters sent apart from the SQL, so each page's queries have the same text on every request and
        # PostgreSQL parses and plans them once per connection (psycopg prepares a query from its 2nd run).
        # A pooler in transaction mode (PgBouncer < 1.21) cannot keep prepared statements: set
        # DATABASE_PREPARED_STATEMENTS=false behind one (docs/SCALING.md).
        "server_side_binding": True,
        "prepare_threshold": 1 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A first run's web server and task worker write to the same file. SQLite's default transaction starts as a
    # reader and fails at once ("database is locked") when it turns writer while the other holds the lock; an
    # IMMEDIATE transaction takes the write lock as it begins, waiting up to the timeout (seconds) for it.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}

# The cache: Redis when REDIS_URL is set (production, the benchmark and CI), shared by every app server and the
# worker; otherwise each process's own memory (a first run on one machine). Sessions live in the database, and
# with Redis each one is read from the cache (cached_db): one query less on every signed-in page
# (docs/BENCHMARKS.md). Without a shared cache they are read from the database alone, so that a sign-out in one
# process is never missed by another's private copy.
_shared_cache = env_cache("REDIS_URL")
if _shared_cache:
    CACHES = {"default": _shared_cache}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    # Redis away: each command is a miss and pages use the database; said in the log once a minute (LOGGING below).
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Plans' steps and protocols' phases from the cache (recovery/content_cache.py): only when every process shares it.
CONTENT_CACHE = bool(_shared_cache)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# At least 12 characters, not a common password, not like the person's name or e-mail; no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.password_rules.FullNameSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
# How long a patient's invitation link (e-mail and welcome sheet) stays usable; a new invitation ends it sooner.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7, minimum=1)

MAILERS = {"default": env_mailer("EMAIL_URL", debug=DEBUG)}
# The sender of every e-mail. Production must name one of the clinic's own domains: mail from a made-up domain is
# refused or filed as spam by patients' mail providers, and their replies would go nowhere.
DEFAULT_FROM_EMAIL = env_email(
    "DJANGO_DEFAULT_FROM_EMAIL",
    formataddr((CLINIC_NAME, "no-reply@apex.test")),  # quoted when the name needs it ("Apex Ltd.")
    required=not DEBUG,
    why=" when DJANGO_DEBUG is off: the sender of the portal's e-mails, e.g."
    " 'Apex Sports Clinic <no-reply@apexclinic.example>'",
    with_name=True,
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Mail and reminders leave after the transaction commits, through the tasks framework: the tasks wait in the
# database for the worker (`manage.py worker`, started by `make run`; a service in production, docs/DEPLOY.md).
# Tests run them at once with the immediate backend (tests/conftest.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content Security Policy from the first page: no inline script or style anywhere; scripts the admin
# emits carry a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if not DEBUG:
    # Behind the TLS proxy: trust its X-Forwarded-Proto, send plain HTTP to HTTPS, and keep cookies on HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Under systemd each line carries its level, so that `journalctl -p err` finds the errors (clinic/journal.py).
    "formatters": {
        "plain": {
            "class": "clinic.journal.JournalFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {
        # No secret of an invitation, reset or opt-out link in Django's own lines (clinic/log_privacy.py).
        "secret_links": {"()": "clinic.log_privacy.SecretLinksFilter"},
        # Redis away: one line a minute, not a traceback per failed command (clinic/cache_log.py).
        "redis_away": {"()": "clinic.cache_log.RedisAwayFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secret_links"]}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "django_redis.cache": {"filters": ["redis_away"]}},
}

# -- Reliability (issue 8; docs/OPERATIONS.md) ---------------------------------------------------------------------
# The pool checks a connection before handing it out, so connections PostgreSQL dropped (a restart, a failover,
# pg_terminate_backend) are replaced instead of failing the next requests: the server recovers without a restart.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Last, so it is asked first about a view's exception: a lost database becomes a "try again shortly" page (503),
# and a body over REQUEST_MAX_BYTES is refused (413) before anything reads it (clinic/errors.py).
MIDDLEWARE += ["clinic.errors.DatabaseUnavailableMiddleware"]
# A form sent from a page older than the session: a page in plain words, not Django's technical one.
CSRF_FAILURE_VIEW = "clinic.errors.csrf_failure"
# The biggest thing anyone sends is the front desk's CSV intake (1 MB, accounts/frontdesk/intake.py).
REQUEST_MAX_BYTES = 3 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # form fields without the files; over it: RequestDataTooBig, 413
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # uploads up to this stay in memory, bigger ones go to a temp file

# -- Security and audit (issue 7; README "Security") ----------------------------------------------------------------
# Sign-in lockout (django-axes), two-factor sign-in (django-otp, TOTP), session timeouts by role, Cache-Control:
# no-store, and the audit log of who saw or changed a patient's data (the audit app).
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp", "audit"]
_after_auth = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_after_auth:_after_auth] = [
    # Marks request.user as verified or not by a second factor (no query unless the session holds a device).
    "django_otp.middleware.OTPMiddleware",
]
_after_messages = MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1
MIDDLEWARE[_after_messages:_after_messages] = [
    # Ends staff sessions after SESSION_STAFF_IDLE_MINUTES without a request (accounts/middleware.py).
    "accounts.middleware.SessionTimeoutMiddleware",
    # Sends a superuser without a verified second factor to the two-factor page (production).
    "accounts.middleware.TwoFactorRequiredMiddleware",
    # Writes one audit row for each request that saw or changed a patient's data, or was refused (audit/).
    "audit.middleware.AuditMiddleware",
    # Cache-Control: no-store on every page unless a view says otherwise (the privacy notice is public).
    "accounts.middleware.NoStoreMiddleware",
    # Turns a lockout flagged during sign-in into the login page with a plain message (its backend comes first).
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]

# Five failed sign-ins for one e-mail address lock it for fifteen minutes, from any address: the lockout follows
# the account (a clinic's staff share one public IP address, so locking by IP would lock the whole clinic out).
# Staff unlock early in the admin (Axes › Access attempts) or with `manage.py axes_reset_username <e-mail>`.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns of parameter sets that rotating a user agent or cookie escapes; a count kept per e-mail address
# does not depend on either. (Many accounts tried from one address is for the proxy's rate limit: README.)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (an e-mail address)
AXES_USERNAME_CALLABLE = "accounts.security.axes_username"  # "Ann@Example.com " and "ann@example.com" are one
AXES_CLIENT_IP_CALLABLE = "audit.recorder.client_ip"  # the same address as the audit log
AXES_LOCKOUT_CALLABLE = "accounts.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Masked in the stored attempts (Axes › Access attempts): besides the login form's password (always masked), the
# password change form's fields and a two-factor code, since a wrong password typed there is counted too
# (accounts.forms.is_own_password) and was kept as typed, with the new password beside it.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "old_password", "new_password1", "new_password2", "token"]

# Two-factor sign-in: any staff member may turn it on (/accounts/two-factor/); superusers must, in production.
TWO_FACTOR_REQUIRED_FOR_SUPERUSERS = env_bool("DJANGO_2FA_REQUIRED_FOR_SUPERUSERS", not DEBUG)
OTP_TOTP_ISSUER = CLINIC_NAME

# Sessions: staff (reception, clinicians, administrators) are signed out after 30 minutes without a request and 12
# hours after signing in; patients' sessions last 14 days from sign-in (SESSION_COOKIE_AGE), with no session write.
SESSION_STAFF_IDLE_MINUTES = env_int("SESSION_STAFF_IDLE_MINUTES", 30, minimum=1)
SESSION_STAFF_MAX_HOURS = env_int("SESSION_STAFF_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = 60 * 60 * 24 * env_int("SESSION_PATIENT_DAYS", 14, minimum=1)
# The last-seen time in a staff session is rewritten at most this often, not on every request.
SESSION_ACTIVITY_REFRESH_SECONDS = 5 * 60

# The audit log records REMOTE_ADDR; behind a proxy that appends the client's address to X-Forwarded-For, turn
# this on to record that address instead (the audit log and sign-in attempts; lockout goes by e-mail address).
# Off by default: a client could forge the header.
TRUST_X_FORWARDED_FOR = env_bool("DJANGO_TRUST_X_FORWARDED_FOR", False)

# The policy above, tightened: nothing may be framed or embedded, no <base> tag may redirect relative links.
SECURE_CSP["frame-src"] = [CSP.NONE]
SECURE_CSP["base-uri"] = [CSP.NONE]
# Axes says at INFO level each time someone signs in; the audit log keeps those. Failures stay (WARNING).
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

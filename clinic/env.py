"""Read settings from the environment, refusing bad values with a message that names the variable.

Every helper raises ``ImproperlyConfigured`` so that start-up stops before the portal serves a single page
with a half-understood configuration.
"""

import os
import re
from email.errors import HeaderParseError
from email.headerregistry import AddressHeader
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(name, default=None, *, required=False, why=""):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if required:
            raise ImproperlyConfigured(f"{name} must be set{why}.")
        return default
    return value.strip()


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false, yes/no, on/off or 1/0; got {value!r}.")


def env_int(name, default, *, minimum=None):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}.")
    return number


def env_list(name, default=(), *, required=False, why=""):
    value = os.environ.get(name)
    items = list(default) if value is None else [item.strip() for item in value.split(",") if item.strip()]
    if required and (value is None or not items):
        raise ImproperlyConfigured(f"{name} must be set{why}.")
    return items


def env_url(name, default, *, required=False, why=""):
    """An absolute http(s) URL without a trailing slash, e.g. the portal's public base URL."""
    value = env_str(name, default, required=required, why=why)
    parts = urlsplit(value)
    # Paths are appended to it ("{SITE_URL}/accounts/..."), so a query, a fragment or a space would break every link.
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or any(char.isspace() for char in value)
    ):
        raise ImproperlyConfigured(
            f"{name} must be an absolute http:// or https:// URL without a query, e.g. https://recovery.example.org;"
            f" got {value!r}."
        )
    return value.rstrip("/")


def env_time_zone(name, default):
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name} must be a time zone name such as Europe/London; got {value!r}.") from None
    return value


# The two ways to write an e-mail setting: the address alone, or (a sender) a name and the address in <>.
BARE_ADDRESS = re.compile(r"(?P<address>[^<>\s]+)")
NAMED_ADDRESS = re.compile(r"(?P<name>[^<>]*[^<>\s])\s*<(?P<address>[^<>\s]+)>")


def env_email(name, default, *, required=False, why="", with_name=False):
    """One e-mail address; ``with_name`` also accepts a sender written ``Apex Sports Clinic <no-reply@…>``.

    Checked as the mail is sent: Django's validate_email on the address, and the header parser of Django's SMTP
    backend on the whole value, so that a value that starts the portal never fails every e-mail later ("Invalid
    address") as a list of addresses or a missing ">" did.
    """
    value = env_str(name, default, required=required, why=why)
    if value is None:
        return None
    if len(re.findall(r"[^\s,;<>]+@[^\s,;<>]+", value)) > 1:
        raise ImproperlyConfigured(
            f"{name} must be one e-mail address, not several: for several people, use the address of a mailing list "
            f"or an alias that forwards to them; got {value!r}."
        )
    shapes = (
        "an e-mail address, or a name and an address written Apex Sports Clinic <no-reply@apexclinic.example>"
        ' (a name with a full stop, a comma or other punctuation in double quotes: "Apex Ltd." <no-reply@…>)'
    )
    problem = ImproperlyConfigured(f"{name} must be {shapes if with_name else 'an e-mail address'}; got {value!r}.")
    match = BARE_ADDRESS.fullmatch(value) or (with_name and NAMED_ADDRESS.fullmatch(value))
    if not match:
        raise problem
    try:
        validate_email(match["address"])
        parsed = AddressHeader.value_parser(value)
    except (ValidationError, HeaderParseError, IndexError, ValueError):
        raise problem from None
    if parsed.all_defects or [box.addr_spec for box in parsed.all_mailboxes] != [match["address"]]:
        raise problem
    return value


def env_database(name, default, *, required=False, why=""):
    value = env_str(name, default, required=required, why=why)
    try:
        config = dj_database_url.parse(value)
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(f"{name} is not a database URL we understand ({error}); got {value!r}.") from None
    if not config.get("ENGINE") or not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host:5432/apex; got {value!r}.")
    return config


def env_cache(name):
    """The shared cache from a ``redis://`` (or ``rediss://``, ``unix://``) URL, or None when unset.

    A cache that is away must never turn a page into an error: django-redis treats its failures as misses (with
    ``IGNORE_EXCEPTIONS``), and short timeouts keep a stalled server from holding a request.
    """
    value = env_str(name)
    if value is None:
        return None
    if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"{name} must be a redis:// URL, e.g. redis://127.0.0.1:6379/0; got {value!r}.")
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": value,
        "KEY_PREFIX": "apex",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }


MAIL_SCHEMES = {
    "smtp": (False, False),
    "smtp+tls": (True, False),
    "smtp+ssl": (False, True),
}


def env_mailer(name, *, debug):
    """Parse ``EMAIL_URL`` into one entry of Django 6.1's ``MAILERS`` setting.

    ``smtp://``, ``smtp+tls://`` (STARTTLS) and ``smtp+ssl://`` reach a mail server; ``console://`` prints
    messages, and is what debug uses when the variable is unset.
    """
    value = env_str(name)
    if value is None:
        if debug:
            return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off, e.g. smtp+tls://user:pass@host:587.")
    parts = urlsplit(value)
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in MAIL_SCHEMES or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must look like smtp+tls://user:pass@host:587 (schemes: smtp, smtp+tls, smtp+ssl, console)."
        )
    use_tls, use_ssl = MAIL_SCHEMES[parts.scheme]
    try:
        port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a port that is not a number.") from None
    timeout = parse_qs(parts.query).get("timeout", ["10"])[0]
    if not timeout.isdigit():
        raise ImproperlyConfigured(f"{name} has a timeout that is not a whole number of seconds.")
    options = {
        "host": parts.hostname,
        "port": port,
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "use_tls": use_tls,
        "use_ssl": use_ssl,
        "timeout": int(timeout),
    }
    return {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}

"""Gunicorn's access log without what would let a log reader into an account or onto a patient's details.

The query string is left out (the front desk's search sends names, phone numbers and dates of birth in it), and
the secret part of a link that works without a password is replaced (clinic/log_privacy.py): whoever reads the
logs could otherwise open a patient's account before the patient does.
"""

from gunicorn.glogging import Logger

from clinic.log_privacy import without_secret_links


def loggable_path(path):
    """``path`` (without its query string) as the access log may show it."""
    return without_secret_links(path)


class PrivateAccessLogger(Logger):
    """Gunicorn's logger (``logger_class`` in gunicorn.conf.py) with the request line made loggable."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = loggable_path(environ.get("PATH_INFO") or "/")
        if environ.get("QUERY_STRING"):
            path += "?…"  # that there was one can matter when reading a log; what it held must not be there
        atoms["r"] = f"{environ['REQUEST_METHOD']} {path} {environ['SERVER_PROTOCOL']}"
        atoms["U"], atoms["q"] = path, ""
        return atoms

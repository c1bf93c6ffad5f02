"""A real server for the fault tests: gunicorn in a subprocess, on a free loopback port, against a database URL.

Used by tests/test_faults.py. (tests/test_accounts.py has its own copy for the /healthz test against a closed
port; this one also tells apart the server's connections in PostgreSQL by their application_name.)
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict):
    """The URL of a Django database settings dict (the test database while a test runs)."""
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


@dataclass
class Answer:
    status: int
    body: str
    headers: dict
    seconds: float


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: object

    def log_tail(self, size=3000):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def get(self, path, *, cookies=None, timeout=10):
        """GET ``path`` without following redirects; any status comes back as an Answer."""
        request = urllib.request.Request(self.url + path)
        if cookies:
            request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        started = time.monotonic()
        try:
            with opener.open(request, timeout=timeout) as response:
                return Answer(response.status, response.read().decode(), dict(response.headers), _since(started))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(), dict(error.headers), _since(started))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _since(started):
    return time.monotonic() - started


@contextlib.contextmanager
def gunicorn(*, database, app_name="apex-live-test", workers=1):
    """Serve the portal with gunicorn on DATABASE_URL ``database``; its PostgreSQL connections carry ``app_name``."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": database,
        "PGAPPNAME": app_name,
    }
    # The log goes to a file, not a pipe: a pool retrying a lost database logs a lot, and a full pipe would
    # stall the server.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "clinic.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise AssertionError(f"gunicorn stopped: {log.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start within 30 seconds") from None
                time.sleep(0.1)
        yield Server(f"http://127.0.0.1:{port}", process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

"""Real-browser tests: Playwright (sync API) drives Debian's Chromium against pytest-django's live server.

No browser is downloaded: Playwright launches /usr/bin/chromium (``apt-get install chromium``; .ci/run does it).
The live server runs in this process, so the invitation e-mail is read from ``mail.outbox``.
"""

import os
from pathlib import Path

import pytest
from django.db import connections

# The live server listens on the loopback address.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The network is closed: nothing may try to phone home, update itself or sign in.
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


@pytest.fixture
def browser(monkeypatch):
    """Chromium for one test, started after the test's database is set up and stopped before it is torn down.

    While Playwright's sync API runs, its event loop counts as running in this thread: Django refuses the ORM there
    unless DJANGO_ALLOW_ASYNC_UNSAFE is set (test environment only, and only meanwhile), and asgiref hands this
    thread other database connections than the test runner's. Those are closed before Playwright stops, so the
    runner's own connection flushes the database and puts the reference data back afterwards.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); CI fails on this skip")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
            connections.close_all()


@pytest.fixture
def new_page(browser):
    """``new_page(viewport)``: a page in a fresh context (its own cookies), closed at the end of the test."""
    contexts = []

    def open_page(viewport=DESKTOP, **options):
        # Reduced motion: Bootstrap then skips its colour transitions, so axe-core never measures a button
        # halfway through one (a hover fading in under the pointer after an htmx swap).
        context = browser.new_context(viewport=viewport, reduced_motion="reduce", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def site(live_server, settings):
    """The live server's address; links in e-mails point at it."""
    settings.SITE_URL = live_server.url
    return live_server.url

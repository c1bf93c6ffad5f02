"""The headers of a production response: HTTPS only (HSTS for a year), a strict Content Security Policy, no MIME
sniffing, no referrer or opener leaks, and no copy of any page with health data kept by a browser or proxy."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CheckInFactory
from tests.test_settings import PRODUCTION, load_settings

pytestmark = pytest.mark.django_db

# The settings that shape a response's security, taken from clinic/settings.py loaded with a production
# environment (not copied by hand), then applied to the running test server.
PRODUCTION_SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_CSP",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "TWO_FACTOR_REQUIRED_FOR_SUPERUSERS",
]


@pytest.fixture
def production(monkeypatch, settings):
    prod = load_settings(monkeypatch, **PRODUCTION)
    for name in PRODUCTION_SECURITY_SETTINGS:
        setattr(settings, name, getattr(prod, name))
    return prod


def https_client(person=None):
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


def assert_secure_headers(response):
    headers = response.headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    policy = headers["Content-Security-Policy"]
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-src 'none'",
        "form-action 'self'",
    ]:
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "no-store" in headers["Cache-Control"]


def assert_no_inline_script_or_style(html):
    """What the policy forbids is not on the page either: scripts are files of the portal's own, no styles inline."""
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert script.strip() == "", "an inline script"
    assert all(" src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "<style" not in html and " style=" not in html


def test_a_patients_pages_carry_every_security_header(production, patient, plan):
    CheckInFactory(plan=plan, pain=4)
    client = https_client(patient)
    for name in ["recovery:today", "recovery:check_in", "recovery:progress", "recovery:account", "recovery:tips"]:
        response = client.get(reverse(name), secure=True)
        assert response.status_code == 200, name
        assert_secure_headers(response)
        assert_no_inline_script_or_style(response.content.decode())
    for name in ["recovery:export_json", "recovery:export_csv"]:
        response = client.get(reverse(name), secure=True)
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        assert_secure_headers(response)


def test_front_desk_and_admin_pages_carry_them_too(production, patient, plan, reception, clinician):
    desk = https_client(reception)
    for url in [reverse("frontdesk:home"), reverse("frontdesk:patient", args=[patient.pk])]:
        response = desk.get(url, secure=True)
        assert response.status_code == 200, url
        assert_secure_headers(response)
    admin = https_client(clinician)
    for url in [
        reverse("admin:recovery_recoveryplan_changelist"),
        reverse("admin:recovery_recoveryplan_change", args=[plan.pk]),
        reverse("admin:recovery_plan_visit_summary", args=[plan.pk]),
        reverse("admin:recovery_checkin_changelist"),
    ]:
        response = admin.get(url, secure=True)
        assert response.status_code == 200, url
        assert_secure_headers(response)


def test_the_login_page_and_its_cookies_are_https_only(production, patient):
    client = https_client()
    response = client.get(reverse("accounts:login"), secure=True)
    assert_secure_headers(response)
    response = client.post(
        reverse("accounts:login"), {"username": "alice@example.com", "password": "correct horse battery staple"},
        secure=True,
    )  # fmt: skip
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["secure"] and session_cookie["httponly"]
    assert session_cookie["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["secure"]


def test_plain_http_is_sent_to_https(production, patient):
    response = https_client().get(reverse("recovery:today"))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/today/"


def test_behind_the_tls_proxy_a_forwarded_https_request_is_served(production, patient, plan):
    response = https_client(patient).get(reverse("recovery:today"), headers={"x-forwarded-proto": "https"})
    assert response.status_code == 200
    assert_secure_headers(response)


def test_the_privacy_notice_is_not_kept_by_shared_caches_since_it_holds_a_csrf_token(production):
    response = https_client().get(reverse("privacy"), secure=True)
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_a_signed_in_persons_privacy_notice_is_not_kept(production, patient):
    """Their copy holds their sign-out form and its CSRF token."""
    response = https_client(patient).get(reverse("privacy"), secure=True)
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]

"""Bad input everywhere: whatever a browser, a script or a broken spreadsheet sends, the portal answers with a page
(never a server error) and writes all of a change or none of it.

Property-based (hypothesis) over the five endpoints that write: tick, check-in, enrol, CSV intake and the
invitation's set-password page. Each example runs in a transaction rolled back at its end, so examples never see
each other's writes; ``derandomize`` makes every run (and CI) try the same examples.
"""

import contextlib
import datetime
import string

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.timezone import now
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.frontdesk.invitations import invitation_tokens
from accounts.models import User
from recovery.clock import clinic_today
from recovery.models import Alert, CheckIn, Completion, PlanStep, Protocol, RecoveryPlan
from tests.factories import PASSWORD, PatientFactory, make_plan
from tests.test_today import step

EXAMPLES = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Anything a form field can carry: any character but the lone surrogates no client can encode, NUL included.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
near_dates = st.integers(-400, 400).map(lambda days: (clinic_today() + datetime.timedelta(days=days)).isoformat())
edge_dates = st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-29", "2028-02-29", "31/12/9999", "01/01/0001"])
any_date = st.one_of(near_dates, edge_dates, st.dates().map(datetime.date.isoformat), any_text)
any_number = st.one_of(st.integers(-20, 20).map(str), st.integers().map(str), any_text)
checkbox = st.one_of(st.just(None), st.sampled_from(["on", "true", "1", "off", ""]), any_text)


@contextlib.contextmanager
def rolled_back():
    """Run one example in a transaction that is undone afterwards (the writes inside can still be inspected)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def form(**fields):
    """A POST body: fields set to None are left out, as a browser leaves out an unticked box."""
    return {name: value for name, value in fields.items() if value is not None}


def assert_answered(response):
    # The test client re-raises a view's exception, so reaching here already means no traceback; this also
    # catches an error page returned without one.
    assert response.status_code < 500, response.content[:500]
    event(f"answered {response.status_code}")  # pytest --hypothesis-show-statistics: how often each outcome


# -- Tick --------------------------------------------------------------------------------------------------------


def completions(plan):
    return {(key, date): count for key, date, count in Completion.objects.filter(plan=plan).values_list(
        "step_key", "date", "count")}  # fmt: skip


@given(step=st.integers(0, 30), date=any_date, count=any_number, numbness=checkbox, htmx=st.booleans())
@EXAMPLES
def test_a_tick_never_fails_and_writes_exactly_the_count_asked_or_nothing(
    patient_client, plan, step, date, count, numbness, htmx
):
    steps = list(PlanStep.objects.filter(plan=plan).order_by("pk"))
    target = steps[step % len(steps)]
    headers = {"HX-Request": "true"} if htmx else {}
    with rolled_back():
        before = completions(plan)
        alerts_before = Alert.objects.filter(plan=plan).count()
        response = patient_client.post(
            reverse("recovery:tick", args=[target.pk]),
            form(date=date, count=count, numbness=numbness),
            headers=headers,
        )
        assert_answered(response)
        after = completions(plan)
        changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
        # All or nothing: at most the one (step, day) named, set to exactly the count sent.
        assert len(changed) <= 1 and all(key == target.key for key, _ in changed)
        for key in changed:
            assert after.get(key, 0) == forms.IntegerField().clean(count)
            assert 0 <= after.get(key, 0) <= target.daily_target
        assert all(value >= 1 for value in after.values())
        new_alerts = Alert.objects.filter(plan=plan).count() - alerts_before
        assert new_alerts == 0 or (target.key == "compression" and numbness == "yes" and new_alerts == 1)


def test_a_tick_on_a_date_at_the_end_of_the_calendar_is_refused_not_a_crash(patient_client, plan):
    """Found by the property above: the week before 1 January of year 1 does not exist."""
    step = PlanStep.objects.filter(plan=plan).first()
    for date in ["0001-01-01", "9999-12-31"]:
        response = patient_client.post(reverse("recovery:tick", args=[step.pk]), {"date": date, "count": "1"})
        assert response.status_code == 302
        assert not Completion.objects.filter(plan=plan).exists()


# -- Check-in ----------------------------------------------------------------------------------------------------

RED_FLAGS = CheckIn.RED_FLAG_FIELDS


@given(
    pain=st.one_of(st.integers(-3, 13).map(str), any_number),
    numbness=checkbox,
    swelling=checkbox,
    flags=st.lists(st.tuples(st.sampled_from(RED_FLAGS), checkbox), max_size=len(RED_FLAGS)),
    note=st.one_of(st.none(), any_text, st.text(max_size=3000)),
    date=st.one_of(st.none(), any_date),
)
@EXAMPLES
def test_a_check_in_never_fails_and_is_saved_whole_or_not_at_all(
    patient_client, plan, pain, numbness, swelling, flags, note, date
):
    today = clinic_today()
    with rolled_back():
        response = patient_client.post(
            reverse("recovery:check_in"),
            form(pain=pain, numbness=numbness, swelling=swelling, note=note, date=date, **dict(flags)),
        )
        assert_answered(response)
        check_ins = list(CheckIn.objects.filter(plan=plan))
        if response.status_code == 302:
            # Saved: today's (a page's day other than today is refused: tests/test_stale_pages.py), with the pain sent.
            assert [check_in.date for check_in in check_ins] == [today]
            assert check_ins[0].pain == int(pain) and 0 <= check_ins[0].pain <= 10
        else:
            # Refused: no check-in, no tick; no alert either, but for a warning sign sent from a page of a day that
            # is over, which reaches the clinic for today (tests/test_stale_pages.py).
            assert response.status_code == 200
            assert check_ins == []
            alerts = Alert.objects.filter(plan=plan)
            assert not alerts.exists() if "data-day-over" not in response.text else not alerts.exclude(date=today)
            assert not Completion.objects.filter(plan=plan).exists()


# -- Enrol -------------------------------------------------------------------------------------------------------

ENROL_FIELDS = ["first_name", "last_name", "email", "date_of_birth", "phone", "race_date", "protocol", "clinician"]
odd_values = {
    "first_name": any_text,
    "last_name": st.one_of(any_text, st.text(min_size=151, max_size=200)),
    "email": st.one_of(st.emails().map(str), any_text, st.sampled_from(["alice@example.com", "ALICE@EXAMPLE.COM "])),
    "date_of_birth": any_date,
    "phone": any_text,
    "race_date": any_date,
    "protocol": any_number,
    "clinician": any_number,
}


@st.composite
def enrolments(draw):
    """A good enrolment with a few of its fields (maybe none) replaced by odd values, or left out."""
    values = {
        "first_name": "Ann",
        "last_name": "Runner",
        "email": draw(st.emails().map(str)),
        "date_of_birth": "1990-04-26",
        "phone": "07700 900123",
        "race_date": (clinic_today() - datetime.timedelta(days=draw(st.integers(0, 30)))).isoformat(),
        "protocol": str(Protocol.objects.default().pk),
        "clinician": "",
    }
    for name in draw(st.sets(st.sampled_from(ENROL_FIELDS), max_size=3)):
        values[name] = draw(st.one_of(st.none(), odd_values[name]))
    return values


@given(data=enrolments())
@EXAMPLES
def test_an_enrolment_never_fails_and_creates_the_whole_patient_or_nothing(client, reception, patient, data):
    client.force_login(reception)
    with rolled_back():
        users, plans = User.objects.count(), RecoveryPlan.objects.count()
        response = client.post(reverse("frontdesk:enrol"), form(**data))
        assert_answered(response)
        if response.status_code == 302:
            new = User.objects.get(email=data["email"].strip().lower())
            assert User.objects.count() == users + 1
            assert RecoveryPlan.objects.filter(patient=new).count() == 1 == RecoveryPlan.objects.count() - plans
            assert new.groups.count() == 1 and not new.has_usable_password()
        else:
            assert response.status_code == 200
            assert (User.objects.count(), RecoveryPlan.objects.count()) == (users, plans)


# -- CSV intake --------------------------------------------------------------------------------------------------

COLUMNS = ["first_name", "last_name", "email", "phone", "race_date"]
odd_cells = st.one_of(any_text, any_date, st.emails().map(str), st.just(""), st.sampled_from(['"', '"a""b', "a,b"]))


@st.composite
def csv_files(draw):
    """Mostly CSV-shaped: a header, then good rows with some odd cells; sometimes any bytes at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    header = draw(st.one_of(st.just(COLUMNS), st.permutations(COLUMNS), st.lists(any_text, max_size=6)))
    rows = []
    for line in range(draw(st.integers(0, 5))):
        good = {
            "first_name": "Ann",
            "last_name": f"Runner{line}",
            "email": f"runner{line}@example.com",
            "phone": "",
            "race_date": (clinic_today() - datetime.timedelta(days=3)).isoformat(),
        }
        row = [good.get(name, "") for name in header]
        odd = draw(st.sampled_from(["none", "none", "none", "cells", "short"]))
        if odd == "cells":
            for index in draw(st.sets(st.integers(0, max(len(row) - 1, 0)), min_size=1, max_size=2)):
                if index < len(row):
                    row[index] = draw(odd_cells)
        elif odd == "short":
            row = row[: draw(st.integers(0, len(row)))]
        rows.append(row)
    delimiter = draw(st.sampled_from([",", ";"]))
    lines = [delimiter.join(header), *(delimiter.join(row) for row in rows)]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return newline.join(lines).encode(encoding, errors="replace")


@given(data=csv_files(), protocol=st.one_of(st.just("default"), st.just("default"), any_number))
@EXAMPLES
def test_a_csv_intake_never_fails_and_enrols_every_row_or_none(client, reception, patient, data, protocol):
    if protocol == "default":
        protocol = str(Protocol.objects.default().pk)
    client.force_login(reception)
    with rolled_back():
        users, plans = User.objects.count(), RecoveryPlan.objects.count()
        upload = SimpleUploadedFile("patients.csv", data, content_type="text/csv")
        response = client.post(reverse("frontdesk:intake"), {"file": upload, "protocol": protocol, "clinician": ""})
        assert_answered(response)
        assert User.objects.count() == users, "the upload only previews"
        stored = client.session.get("frontdesk_intake")
        if stored:
            response = client.post(reverse("frontdesk:intake_confirm"), {"intake": stored["id"]})
            assert_answered(response)
            added = User.objects.count() - users
            event(f"confirmed: {'all' if added else 'none'} enrolled")
            assert added in (0, len(stored["rows"])), "every row or none"
            assert RecoveryPlan.objects.count() - plans == added


# -- Set a password through the invitation -----------------------------------------------------------------------


def invited_patient():
    patient = PatientFactory(invited_at=now())
    patient.set_unusable_password()
    patient.save()
    return patient


@given(
    password1=st.one_of(st.just(PASSWORD), any_text, st.text(min_size=12, max_size=80)),
    same=st.booleans(),
    password2=any_text,
    consent=checkbox,
)
@EXAMPLES
def test_setting_a_password_never_fails_and_sets_it_with_the_consent_or_not_at_all(
    client, db, password1, same, password2, consent
):
    with rolled_back():
        patient = invited_patient()
        uid = urlsafe_base64_encode(force_bytes(patient.pk))
        # The link moves its token into the session and redirects to a URL without it.
        landing = client.get(reverse("welcome", args=[uid, invitation_tokens.make_token(patient)]))
        assert landing.status_code == 302
        response = client.post(
            landing["Location"],
            form(new_password1=password1, new_password2=password1 if same else password2, consent=consent),
        )
        assert_answered(response)
        patient.refresh_from_db()
        if response.status_code == 302:
            assert patient.check_password(password1) and patient.privacy_consent_at is not None
        else:
            assert not patient.has_usable_password() and patient.privacy_consent_at is None
        client.logout()


url_safe = st.text(string.ascii_letters + string.digits + "-_=.~%", min_size=1, max_size=40)


@given(uid=url_safe, token=url_safe)
@EXAMPLES
def test_any_invitation_link_answers_with_a_page(client, db, uid, token):
    response = client.get(f"/welcome/{uid}/{token}/")
    assert_answered(response)
    assert response.status_code in (200, 302, 404)


# -- Too big to read ---------------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_unread_with_a_friendly_page(patient_client, plan, settings):
    response = patient_client.post(
        reverse("recovery:check_in"), {"pain": "3", "note": "x" * (settings.REQUEST_MAX_BYTES + 1)}
    )
    assert response.status_code == 413
    assert "too much to send" in response.content.decode()
    assert not CheckIn.objects.filter(plan=plan).exists()


def test_form_fields_over_djangos_limit_get_the_same_page(patient_client, plan, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = patient_client.post(reverse("recovery:check_in"), {"pain": "3", "note": "x" * 20_000})
    assert response.status_code == 413
    assert "too much to send" in response.content.decode()
    assert not CheckIn.objects.filter(plan=plan).exists()


def test_too_many_fields_get_the_same_page(patient_client, plan, settings):
    fields = {f"field{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = patient_client.post(reverse("recovery:check_in"), {"pain": "3", **fields})
    assert response.status_code == 413
    assert not CheckIn.objects.filter(plan=plan).exists()


def test_an_upload_over_the_limit_is_refused_with_a_friendly_page(client, reception, settings):
    client.force_login(reception)
    upload = SimpleUploadedFile("patients.csv", b"x" * (settings.REQUEST_MAX_BYTES + 1), content_type="text/csv")
    response = client.post(reverse("frontdesk:intake"), {"file": upload})
    assert response.status_code == 413
    assert "split it into smaller files" in response.content.decode()


def test_a_malformed_request_gets_a_plain_400_page(client, db):
    response = client.get(reverse("accounts:login"), headers={"host": "bad host name"})
    assert response.status_code == 400
    assert "Something was wrong with that request" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/recovery/recoveryplan/?status__exact=%00",
        "/admin/recovery/alert/?kind__exact=%00",
        "/admin/recovery/tip/?kind__exact=a%00b",
        "/admin/recovery/protocolstep/?gate__exact=%00",
    ],
)
def test_a_nul_character_in_an_admin_filter_gets_the_plain_400_page(clinician_client, url):
    """On PostgreSQL these were 500s: it refuses text holding a NUL, and no form cleans a filter's value."""
    response = clinician_client.get(url)
    assert response.status_code == 400
    assert "Something was wrong with that request" in response.text


@pytest.mark.parametrize("status", [400, 403, "403_csrf", 404, 405, 413, 500, 503])
def test_the_error_pages_render_without_a_request(status):
    """They are rendered with no request and no database: only settings and static files."""
    from django.template.loader import render_to_string

    page = render_to_string(f"{status}.html", {"CLINIC_NAME": "Apex", "CLINIC_PHONE": "+44 20 7946 0000"})
    assert "Apex Recovery" in page and "<h1" in page and "+44 20 7946 0000" in page


def test_a_missing_page_and_another_patients_record_get_the_same_plain_404(patient_client, plan, other_patient):
    others_step = make_plan(other_patient).steps.first()
    missing = patient_client.get("/tips/no-such-tip/")
    someone_elses = patient_client.post(reverse("recovery:tick", args=[others_step.pk]), {"date": "", "count": 1})
    for response in (missing, someone_elses):
        html = response.content.decode()
        assert response.status_code == 404
        assert '<h1 class="h2">We can\'t find that page</h1>' in html and "Back to the start" in html
    assert missing.content == someone_elses.content  # nothing tells a guess at another record from a typo


def test_a_form_sent_after_signing_in_again_gets_a_plain_page_and_saves_nothing(plan, patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    client.get("/today/")  # the page and its token
    stale = "x" * 32  # the token of a page opened before signing out and in again
    response = client.post(
        reverse("recovery:tick", args=[step(plan, "ice").pk]),
        {"date": clinic_today().isoformat(), "count": 1, "csrfmiddlewaretoken": stale},
    )
    html = response.content.decode()
    assert response.status_code == 403 and "That page had expired" in html and "Nothing was saved." in html
    assert "CSRF" not in html  # no jargon
    assert not Completion.objects.exists()


def test_a_page_someone_may_not_open_gets_a_plain_403(client, clinician):
    client.force_login(clinician)
    response = client.get("/admin/audit/auditevent/")  # the audit log is for superusers
    html = response.content.decode()
    assert response.status_code == 403
    assert '<h1 class="h2">This page isn\'t open to you</h1>' in html and "Back to the start" in html


@pytest.mark.parametrize(("address", "person"), [("/accounts/logout/", "patient"), ("/admin/logout/", "clinician")])
def test_a_sign_out_address_opened_directly_says_to_use_the_button_and_signs_no_one_out(
    db, client, request, address, person
):  # db named here: pytest-django orders the tests by the fixtures they name
    client.force_login(request.getfixturevalue(person))
    response = client.get(address)
    assert response.status_code == 405 and response["Allow"]
    assert "That address works only from a button" in response.text and "changed nothing" in response.text
    assert "_auth_user_id" in client.session  # still signed in

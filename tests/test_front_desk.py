"""The front desk: who may open it, search and lists, enrolling one patient, managing an account, the welcome
sheet, and that reception never sees anything clinical."""

import datetime
import html
import re
from html import unescape

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from recovery.care import plan_set_status
from recovery.checkins import check_in_save
from recovery.clock import clinic_today
from recovery.models import Alert, CheckIn, Protocol, RecoveryPlan
from recovery.summaries import inactive_q, last_week_store
from tests.factories import PASSWORD, CheckInFactory, PatientFactory, UserFactory, make_plan

FRONT_DESK = "/front-desk/"
ENROL = "/front-desk/enroll/"


def enrol_data(**changes):
    data = {
        "first_name": "Dana",
        "last_name": "Scully",
        "email": "dana@example.com",
        "date_of_birth": "1990-02-23",
        "phone": "07700 900123",
        "race_date": (clinic_today() - datetime.timedelta(days=1)).isoformat(),
        "protocol": Protocol.objects.default().pk,
        "clinician": "",
    }
    data.update(changes)
    return data


def enrol(client, capture, **changes):
    with capture(execute=True):
        return client.post(ENROL, enrol_data(**changes))


# Who may open the front desk


FRONT_DESK_PAGES = [
    "/front-desk/",
    "/front-desk/enroll/",
    "/front-desk/import/",
    "/front-desk/patients/{pk}/",
    "/front-desk/patients/{pk}/new-plan/",
    "/front-desk/patients/{pk}/welcome/",
]


@pytest.mark.parametrize("page", FRONT_DESK_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, page, patient):
    url = page.format(pk=patient.pk)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("person", ["patient", "clinician"])
@pytest.mark.parametrize("page", FRONT_DESK_PAGES)
def test_patients_and_clinicians_are_sent_to_their_own_home(client, request, person, page, other_patient):
    client.force_login(request.getfixturevalue(person))
    response = client.get(page.format(pk=other_patient.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize("action", ["invite", "deactivate", "reactivate"])
def test_patients_cannot_post_to_the_front_desk(client, patient, other_patient, action):
    client.force_login(patient)
    response = client.post(f"/front-desk/patients/{other_patient.pk}/{action}/")
    assert response.status_code == 302
    other_patient.refresh_from_db()
    assert other_patient.is_active


def test_a_superuser_may_use_the_front_desk(client, superuser):
    client.force_login(superuser)
    assert client.get(FRONT_DESK).status_code == 200


def test_home_sends_reception_to_the_front_desk(client, reception):
    client.force_login(reception)
    response = client.get("/")
    assert response["Location"] == FRONT_DESK
    assert client.get(FRONT_DESK).status_code == 200


def test_the_placeholder_page_is_gone(desk):
    assert desk.get("/accounts/reception/").status_code == 404


@pytest.mark.parametrize("page", ["/admin/", "/today/", "/progress/", "/check-in/", "/tips/", "/account/"])
def test_reception_is_refused_every_clinical_page(desk, page, plan):
    response = desk.get(page)
    # Sent away: to the admin's login (not staff) or to their own home, the front desk.
    assert response.status_code == 302
    assert response["Location"] in (reverse("home"), f"/admin/login/?next={page}")
    if response["Location"] == reverse("home"):
        assert desk.get(reverse("home"))["Location"] == FRONT_DESK


def test_reception_cannot_manage_staff_accounts(desk, clinician, superuser):
    for person in (clinician, superuser):
        assert desk.get(f"/front-desk/patients/{person.pk}/").status_code == 404
        assert desk.post(f"/front-desk/patients/{person.pk}/deactivate/").status_code == 404
        person.refresh_from_db()
        assert person.is_active


def test_opening_an_actions_address_changes_nothing_and_goes_back_to_its_page(desk, patient, mailoutbox):
    """E.g. a button pressed after the session ran out: the login page then opens the action's address."""
    for action in ("invite", "deactivate", "reactivate"):
        response = desk.get(f"/front-desk/patients/{patient.pk}/{action}/", follow=True)
        assert response.redirect_chain == [(f"/front-desk/patients/{patient.pk}/", 302)]
        assert "That wasn&#x27;t saved" in response.text
        assert desk.put(f"/front-desk/patients/{patient.pk}/{action}/").status_code == 405
    patient.refresh_from_db()
    assert patient.is_active and not mailoutbox
    response = desk.get("/front-desk/import/confirm/")
    assert response.status_code == 302 and response["Location"] == "/front-desk/import/"


def test_pages_are_not_cached(desk):
    assert "no-store" in desk.get(FRONT_DESK)["Cache-Control"]


# Enrolling one patient


def test_reception_enrols_a_patient_and_the_invitation_goes_out(desk, django_capture_on_commit_callbacks, clinician):
    response = enrol(desk, django_capture_on_commit_callbacks, clinician=clinician.pk, email="Dana@Example.com")
    patient = User.objects.get(email="dana@example.com")
    assert response.status_code == 302
    assert response["Location"] == f"/front-desk/patients/{patient.pk}/?enrolled=1"
    assert not patient.has_usable_password()
    assert list(patient.groups.values_list("name", flat=True)) == [Role.PATIENT]
    assert (patient.first_name, patient.last_name, patient.phone) == ("Dana", "Scully", "07700 900123")
    assert patient.date_of_birth == datetime.date(1990, 2, 23)
    plan = RecoveryPlan.objects.open().get(patient=patient)
    assert plan.race_date == clinic_today() - datetime.timedelta(days=1)
    assert plan.clinician == clinician
    assert plan.steps.count() == Protocol.objects.default().steps.count()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@example.com"]
    patient.refresh_from_db()
    assert patient.invitation_sent_at is not None and patient.invitation_failed_at is None
    page = desk.get(response["Location"]).content.decode()
    assert "Dana Scully is enrolled" in page
    assert "Invited, e-mail sent" in page
    # The next move at the desk is printing: the keyboard starts there (not 21 presses of Tab away, past "Send a
    # new invitation", which would kill the link just sent), and the next patient is one step further.
    sheet = reverse("frontdesk:welcome_sheet", args=[patient.pk])
    assert f'href="{sheet}" autofocus>Print the welcome sheet</a>' in page
    assert (
        "Enrol the next patient" in page
        and "autofocus>Print" not in desk.get(f"/front-desk/patients/{patient.pk}/").text
    )


def test_a_typo_in_the_e_mail_corrected_after_printing_says_to_print_the_sheet_again(
    desk, django_capture_on_commit_callbacks
):
    enrol(desk, django_capture_on_commit_callbacks)
    patient = User.objects.get(email="dana@example.com")
    data = {"first_name": "Dana", "last_name": "Scully", "email": "dana.scully@example.com", "race_date": ""}
    data["race_date"] = RecoveryPlan.objects.open().get(patient=patient).race_date.isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        page = desk.post(f"/front-desk/patients/{patient.pk}/", data, follow=True).text
    assert "a new invitation is on its way to it" in page and "carries the old link: print it again" in page


def test_the_enrol_form_preselects_the_default_protocol_and_lists_only_clinicians(desk, clinician, superuser):
    UserFactory(email="staff-no-role@example.com", is_staff=True)
    form = desk.get(ENROL).context["form"]
    assert form["protocol"].value() == Protocol.objects.default().pk
    assert list(form.fields["clinician"].queryset) == [clinician]
    # In the order reception types them: the optional date of birth last, not between e-mail and phone.
    assert list(form.fields)[:5] == ["first_name", "last_name", "email", "phone", "race_date"]
    assert [field.name for field in form.visible_fields()][-1] == "date_of_birth"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "ALICE@example.COM"}, "email", "already has an account with this e-mail address."),
        ({"email": "not-an-address"}, "email", "This is not an e-mail address."),
        ({"email": "dana@"}, "email", "This is not an e-mail address."),
        ({"email": ""}, "email", "Enter the patient's e-mail address."),
        ({"email": "a" * 250 + "@example.com"}, "email", "An e-mail address has at most 254 characters"),
        ({"first_name": ""}, "first_name", "Enter the patient's first name."),
        ({"race_date": "2099-01-01"}, "race_date", "The race date is in the future."),
        ({"race_date": "2001-04-01"}, "race_date", "The race date is more than a year ago."),
        ({"race_date": "yesterday"}, "race_date", "Enter the race date as a date"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "The date of birth must be in the past."),
        ({"phone": "call me maybe"}, "phone", "A phone number may hold only digits"),
        ({"clinician": "999999"}, "clinician", "Choose a clinician from the list."),
    ],
)
def test_bad_input_is_a_plain_form_error_and_nothing_is_created(
    desk, patient, django_capture_on_commit_callbacks, changes, field, message
):
    users, plans = User.objects.count(), RecoveryPlan.objects.count()
    response = enrol(desk, django_capture_on_commit_callbacks, **changes)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in html.unescape(response.content.decode())
    # The cursor waits in the field to fix, not back in First name.
    focused = re.findall(r"<(?:input|select)[^>]*\bautofocus\b[^>]*>", response.content.decode())
    assert len(focused) == 1 and f'name="{field}"' in focused[0], focused
    assert (User.objects.count(), RecoveryPlan.objects.count()) == (users, plans)
    assert mail.outbox == []


def test_an_address_pasted_with_an_invisible_character_is_stored_as_its_owner_types_it(
    desk, django_capture_on_commit_callbacks
):
    """Seen by an audit: stored with a zero-width space, the address signed in once by the invitation, never again."""
    enrol(desk, django_capture_on_commit_callbacks, email="Anna.T@example.com\u200b")
    assert User.objects.filter(first_name="Dana").get().email == "anna.t@example.com"


@pytest.mark.parametrize("name", ["Ma\u200brie", "Ann\x07", "Ann\u202eeiraM"])
def test_a_name_with_a_character_that_cannot_be_printed_is_refused_as_in_a_group_file(
    desk, django_capture_on_commit_callbacks, name
):
    response = enrol(desk, django_capture_on_commit_callbacks, first_name=name)
    assert response.context["form"].errors["first_name"] == [
        "The first name holds a character that cannot be printed: retype it."
    ]
    assert not User.objects.filter(email="dana@example.com").exists()


def test_a_name_pasted_over_two_lines_is_one_line(desk, django_capture_on_commit_callbacks):
    enrol(desk, django_capture_on_commit_callbacks, first_name="Ann\r\nMarie ")
    assert User.objects.get(email="dana@example.com").first_name == "Ann Marie"


def test_an_address_taken_at_the_last_moment_is_a_form_error_not_a_crash(
    desk, patient, django_capture_on_commit_callbacks, monkeypatch
):
    """Two desks enrolling the same address at once: the database's constraint has the last word."""
    from accounts.frontdesk import forms

    monkeypatch.setattr(forms, "_clean_email", lambda email, **kwargs: email.lower())  # the check came too early
    users = User.objects.count()
    response = enrol(desk, django_capture_on_commit_callbacks, email="Alice@Example.com")
    assert response.status_code == 200
    assert "Someone already has an account" in response.content.decode()
    assert User.objects.count() == users
    assert mail.outbox == []


def test_a_patient_assigned_to_a_non_clinician_is_refused(desk, reception, django_capture_on_commit_callbacks):
    response = enrol(desk, django_capture_on_commit_callbacks, clinician=reception.pk)
    assert "clinician" in response.context["form"].errors


# The home page: search and lists


def test_the_front_desk_opens_with_the_cursor_in_the_search_box(desk):
    focused = re.findall(r"<input[^>]*\bautofocus\b[^>]*>", desk.get(FRONT_DESK).content.decode())
    assert len(focused) == 1 and 'name="q"' in focused[0]


def test_search_results_say_how_many_were_found_in_the_pages_title(desk):
    """The title is what a screen reader reads when the page comes back: that it now holds results."""
    PatientFactory(first_name="Ann", last_name="Smith", email="ann@example.com")
    html = desk.get(FRONT_DESK, {"q": "ann"}).text
    assert re.search(r"<title>1 found for “ann” · Front desk", html)
    assert "Results for “ann”: 1 found" in html
    assert "<title>Front desk" in desk.get(FRONT_DESK).text


def test_a_full_page_of_search_results_says_there_may_be_more(desk, monkeypatch):
    from accounts.frontdesk import search, views

    for module in (search, views):
        monkeypatch.setattr(module, "SEARCH_RESULTS", 2)
    for n in range(3):
        PatientFactory(first_name="Ann", last_name=f"Smith{n}", email=f"ann{n}@example.com")
    html = desk.get(FRONT_DESK, {"q": "ann"}).text
    assert "<title>2 or more found for “ann”" in html and "Results for “ann”: 2 or more found" in html


def test_search_finds_patients_by_name_email_phone_and_date_of_birth(desk):
    ann = PatientFactory(
        first_name="Ann", last_name="Smith", email="ann@example.com", phone="07700 900-123", date_of_birth="1985-06-01"
    )
    PatientFactory(first_name="Bob", last_name="Jones", email="bob@example.com", phone="0123 456789")
    UserFactory(first_name="Ann", last_name="Staff", email="ann.staff@example.com", role=Role.RECEPTION)
    queries = ("ann", "SMITH", "ann smith", "ann@example", "07700900123", "900-123", "+44 7700 900123", "01/06/1985",
               "1985-06-01")  # fmt: skip
    for query in queries:
        results = desk.get(FRONT_DESK, {"q": query}).context["results"]
        assert results == [ann], query
    # A number stored in the international form is found by the national one too.
    intl = PatientFactory(first_name="Cleo", last_name="Intl", email="cleo@example.com", phone="+44 7700 900456")
    assert desk.get(FRONT_DESK, {"q": "07700 900456"}).context["results"] == [intl]
    assert desk.get(FRONT_DESK, {"q": "0044 7700 900456"}).context["results"] == [intl]  # the other way abroad
    assert desk.get(FRONT_DESK, {"q": "0044 7700 900123"}).context["results"] == [ann]
    # The box's label says what it takes (the section's heading says what it is for).
    html = desk.get(FRONT_DESK).content.decode()
    assert re.search(r'<label\s+for="id_q"[^>]*>\s*Name, e-mail, phone or date of birth\s*</label>', html)


@pytest.mark.parametrize(
    "query", ["%", "_", "'; drop table accounts_user; --", "😀", "x" * 5000, "31/02/2020", "()", "+", "   "]
)
def test_search_with_odd_input_never_errors(desk, patient, query):
    response = desk.get(FRONT_DESK, {"q": query})
    assert response.status_code == 200
    assert patient not in (response.context["results"] or [])


@pytest.mark.parametrize("query", ["\x00", "a\x00b"])
def test_a_search_holding_a_character_no_keyboard_types_gets_the_plain_400_page(desk, query):
    response = desk.get(FRONT_DESK, {"q": query})  # as for any address holding one (clinic/errors.py)
    assert response.status_code == 400 and "Something was wrong with that request" in response.text


def test_awaiting_activation_lists_invitations_with_their_age_and_e_mail_state(desk, plan):
    now = datetime.datetime.now(tz=datetime.UTC)
    sent = PatientFactory(first_name="Sent", invited_at=now - datetime.timedelta(days=2))
    sent.set_unusable_password()
    sent.invitation_sent_at = now
    sent.save()
    failed = PatientFactory(first_name="Failed", invited_at=now - datetime.timedelta(hours=3))
    failed.set_unusable_password()
    failed.invitation_failed_at = now
    failed.save()
    switched_off = PatientFactory(first_name="Off", invited_at=now, is_active=False)
    switched_off.set_unusable_password()
    switched_off.save()
    fresh = PatientFactory(first_name="Fresh", invited_at=now)
    fresh.set_unusable_password()
    fresh.save()
    response = desk.get(FRONT_DESK)
    assert list(response.context["awaiting"]) == [sent, failed, fresh]  # oldest first; activated Alice is not here
    page = response.content.decode()
    assert "2\xa0days ago" in page
    assert "just now" in page and "0\xa0minutes ago" not in page
    assert "E-mail not sent" in page and "Try sending again" in page


def test_inactive_lists_the_quietest_first_counting_from_a_resume(desk):
    today = clinic_today()
    resumed = make_plan(PatientFactory(first_name="Resumed"), days_since_race=40)
    resumed.last_activity_on = today - datetime.timedelta(days=30)
    resumed.save()
    plan_set_status(plan=resumed, status=RecoveryPlan.Status.PAUSED, today=today - datetime.timedelta(days=25))
    plan_set_status(plan=resumed, status=RecoveryPlan.Status.ACTIVE, today=today - datetime.timedelta(days=10))
    silent = make_plan(PatientFactory(first_name="Silent"), days_since_race=40)
    silent.last_activity_on = today - datetime.timedelta(days=20)
    silent.save()
    response = desk.get(FRONT_DESK)
    # Silent for 20 days comes before silent for 10 since the resume (its last tick was 30 days ago).
    assert [plan.patient.first_name for plan in response.context["inactive"]] == ["Silent", "Resumed"]
    resumed_on = today - datetime.timedelta(days=10)
    note = f"quiet since the clinic resumed the plan on {resumed_on:%a} {resumed_on.day} {resumed_on:%b}"
    assert note in response.text


def test_inactive_lists_plans_without_activity_for_the_configured_days(desk):
    from recovery.models import SafetyThresholds

    thresholds = SafetyThresholds.current()
    thresholds.inactive_after_days = 3
    thresholds.save()
    today = clinic_today()
    quiet = make_plan(PatientFactory(first_name="Quiet"), days_since_race=10)
    quiet.last_activity_on = today - datetime.timedelta(days=4)  # nothing for the three whole days since
    quiet.save()
    busy = make_plan(PatientFactory(first_name="Busy"), days_since_race=10)
    busy.last_activity_on = today - datetime.timedelta(days=3)  # two whole days and today so far
    busy.save()
    never = make_plan(PatientFactory(first_name="Never"), days_since_race=10)
    RecoveryPlan.objects.filter(pk=never.pk).update(
        created_at=datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=4)
    )
    new = make_plan(PatientFactory(first_name="New"), days_since_race=1)  # never active, created today
    paused = make_plan(PatientFactory(first_name="Paused"), days_since_race=10)
    plan_set_status(plan=paused, status=RecoveryPlan.Status.PAUSED, today=clinic_today())
    inactive = desk.get(FRONT_DESK).context["inactive"]
    assert {plan.patient.first_name for plan in inactive} == {"Quiet", "Never"}
    assert busy not in inactive and new not in inactive
    # The clinicians' list counts the same patients as inactive ("everywhere", DESIGN.md).
    assert set(RecoveryPlan.objects.filter(inactive_q(today))) == set(inactive)


def test_a_check_in_counts_as_activity(desk, plan):
    """The check-in service (issue 4) moves last_activity_on, so a patient who only checks in is not inactive."""
    today = clinic_today()
    RecoveryPlan.objects.filter(pk=plan.pk).update(
        created_at=datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=10)
    )
    assert plan in desk.get(FRONT_DESK).context["inactive"]
    check_in_save(plan=plan, date=today, data={"pain": 2}, today=today)
    assert plan not in desk.get(FRONT_DESK).context["inactive"]


def test_recently_enrolled_shows_the_newest_first(desk):
    first = make_plan(PatientFactory(first_name="First"))
    second = make_plan(PatientFactory(first_name="Second"))
    assert desk.get(FRONT_DESK).context["recent"][:2] == [second, first]


@pytest.mark.parametrize("patients", [3, 30])
def test_the_front_desk_runs_a_fixed_number_of_queries(database_only, desk, django_assert_num_queries, patients):
    now = datetime.datetime.now(tz=datetime.UTC)
    for number in range(patients):
        person = PatientFactory(first_name=f"Runner{number}", invited_at=now)
        if number % 2:
            person.set_unusable_password()
            person.save()
        plan = make_plan(person, days_since_race=10)
        RecoveryPlan.objects.filter(pk=plan.pk).update(created_at=now - datetime.timedelta(days=9))
    # Expect 11 queries, whatever the number of patients:
    # 1. the session, 2. the user, 3. the user's groups (is_reception), 4. the search,
    # 5. the safety thresholds, 6.–7. awaiting activation (rows, count), 8.–9. inactive (rows, count),
    # 10. recent enrolments (with their patients and protocols joined), 11. the audit log's INSERT.
    with django_assert_num_queries(11):
        response = desk.get(FRONT_DESK, {"q": "runner"})
    assert len(response.context["results"]) == patients
    assert response.context["inactive"].paginator.count == patients


# Least privilege: nothing clinical on the front desk


def test_reception_sees_nothing_clinical(desk, plan, patient):
    CheckInFactory(plan=plan, pain=9, note="Secret clinical note about the hip")
    Alert.objects.create(
        plan=plan, kind=Alert.Kind.HIGH_PAIN, severity=Alert.Severity.HIGH, date=clinic_today(), reason="Pain 9 of 10"
    )
    pages = [
        desk.get(FRONT_DESK),
        desk.get(FRONT_DESK, {"q": "alice"}),
        desk.get(f"/front-desk/patients/{patient.pk}/"),
        desk.get(f"/front-desk/patients/{patient.pk}/welcome/"),
    ]
    for response in pages:
        assert response.status_code == 200
        page = response.content.decode()
        for secret in ("Secret clinical note", "Pain 9 of 10", "High pain"):
            assert secret not in page
        assert not {"checkin", "check_in", "check_ins", "alert", "alerts", "facts", "pain"} & set(
            response.context.keys()
        )
    assert CheckIn.objects.count() == 1


# Managing one patient


def test_reception_corrects_contact_details_and_the_race_date(desk, patient, plan):
    last_week_store(today=clinic_today())
    new_race = clinic_today() - datetime.timedelta(days=2)
    response = desk.post(
        f"/front-desk/patients/{patient.pk}/",
        {
            "first_name": "Alicia",
            "last_name": "Keys",
            "email": "alice@example.com",
            "phone": "+44 7700 900999",
            "date_of_birth": "1991-03-04",
            "race_date": new_race.isoformat(),
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    plan.refresh_from_db()
    assert (patient.first_name, patient.last_name, patient.phone) == ("Alicia", "Keys", "+44 7700 900999")
    assert plan.race_date == new_race
    assert plan.day_number(clinic_today()) == 2
    assert plan.last_week_ends_on is None  # every day moved: the clinic's list works its share out again
    assert patient.check_password(PASSWORD)  # untouched


def test_editing_refuses_an_address_someone_else_has(desk, patient, other_patient, plan):
    patient.set_unusable_password()  # still to activate: reception may correct the address
    patient.save()
    response = desk.post(
        f"/front-desk/patients/{patient.pk}/",
        {"first_name": "Alice", "last_name": "X", "email": "CHARLIE@example.com", "race_date": plan.race_date},
    )
    assert response.status_code == 200
    assert "Someone already has an account" in response.content.decode()
    patient.refresh_from_db()
    assert patient.email == "alice@example.com"


def test_once_the_patient_signs_in_reception_cannot_change_the_address_they_sign_in_with(desk, patient, plan):
    """Else reception could point the account at an address of its own, ask for a password reset and read the
    patient's health data: the address is the key to the account."""
    page = unescape(desk.get(f"/front-desk/patients/{patient.pk}/").text)
    assert "can't be changed at the front desk" in page
    response = desk.post(
        f"/front-desk/patients/{patient.pk}/",
        {"first_name": "Alice", "last_name": "X", "email": "mine@example.com", "race_date": plan.race_date},
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.email == "alice@example.com" and patient.last_name == "X"  # the rest is saved
    assert desk.post("/accounts/password/reset/", {"email": "mine@example.com"}).status_code == 302
    assert not mail.outbox  # no reset link goes anywhere reception chose


def test_a_plan_older_than_a_year_still_takes_a_new_phone_number(desk, patient, plan):
    """Only a changed race date is checked against the allowed range."""
    plan.race_date = clinic_today() - datetime.timedelta(days=400)
    plan.save()
    response = desk.post(
        f"/front-desk/patients/{patient.pk}/",
        {"first_name": "Alice", "last_name": "X", "email": patient.email, "phone": "07700 900123",
         "race_date": plan.race_date.isoformat()},
    )  # fmt: skip
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "07700 900123"


def test_reception_cannot_move_the_race_date_of_a_plan_signed_off_for_running(desk, patient, plan):
    # Last season's plan, never closed, moved to this year's race: the old sign-off would open running on the new
    # day 21 with nobody's say-so.
    plan.cleared_to_run_on = clinic_today() - datetime.timedelta(days=1)
    plan.save()
    data = {"first_name": "Alice", "last_name": "Keys", "email": "alice@example.com"}
    response = desk.post(f"/front-desk/patients/{patient.pk}/", data | {"race_date": clinic_today().isoformat()})
    assert "only a clinician can change the race date now" in response.text
    plan.refresh_from_db()
    assert plan.race_date == clinic_today() - datetime.timedelta(days=5) and plan.cleared_to_run_on is not None
    # The contact details alone still go through.
    assert desk.post(f"/front-desk/patients/{patient.pk}/", data | {"race_date": plan.race_date}).status_code == 302


def test_editing_refuses_a_future_race_date(desk, patient, plan):
    response = desk.post(
        f"/front-desk/patients/{patient.pk}/",
        {"first_name": "Alice", "last_name": "X", "email": patient.email, "race_date": "2099-01-01"},
    )
    assert "The race date is in the future." in response.content.decode()
    plan.refresh_from_db()
    assert plan.race_date != datetime.date(2099, 1, 1)


def test_deactivating_logs_the_patient_out_everywhere_and_keeps_their_data(desk, client_factory, patient, plan):
    CheckInFactory(plan=plan)
    phone, laptop = client_factory(), client_factory()
    for device in (phone, laptop):
        device.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD})
        assert device.get("/today/").status_code == 200
    sessions_before = Session.objects.count()

    response = desk.post(f"/front-desk/patients/{patient.pk}/deactivate/")
    assert response.status_code == 302
    patient.refresh_from_db()
    assert not patient.is_active
    assert Session.objects.count() == sessions_before - 2  # reception's own session is still there
    for device in (phone, laptop):
        assert device.get("/today/")["Location"].startswith(reverse("accounts:login"))
    assert phone.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}).status_code == 200
    assert "_auth_user_id" not in phone.session
    assert RecoveryPlan.objects.filter(patient=patient).exists() and CheckIn.objects.filter(plan=plan).exists()

    desk.post(f"/front-desk/patients/{patient.pk}/reactivate/")
    patient.refresh_from_db()
    assert patient.is_active
    assert phone.post("/accounts/login/", {"username": "alice@example.com", "password": PASSWORD}).status_code == 302


@pytest.fixture
def client_factory():
    from django.test import Client

    return Client


# The welcome sheet


def test_the_welcome_sheet_has_name_first_week_phone_and_a_qr_code(desk, django_capture_on_commit_callbacks, settings):
    settings.CLINIC_PHONE = "+44 20 7946 0123"
    enrol(desk, django_capture_on_commit_callbacks, race_date=clinic_today().isoformat())
    patient = User.objects.get(email="dana@example.com")
    response = desk.get(f"/front-desk/patients/{patient.pk}/welcome/")
    page = response.content.decode()
    assert "Welcome, Dana Scully" in page
    assert "+44 20 7946 0123" in page
    assert "<svg" in page and 'class="qr-code"' in page
    assert "No camera? The same link is in the e-mail we sent to dana@example.com." in page
    assert "data-print hidden" in page  # the Print button, shown by its script only (Ctrl+P without it)
    assert "css/frontdesk.css" in page  # the print stylesheet
    assert "Ice the hip for 15–20 minutes" in page and "3 times a day, from race day to day 2" in page
    assert "Gentle hip stretches" in page and "Unlocks once your pain is 3/10 or less." in page
    assert "Run with good form" not in page  # a later phase
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)


def test_the_welcome_sheet_qr_dies_with_its_invitation(desk, django_capture_on_commit_callbacks, monkeypatch):
    """The sheet's QR encodes a fresh link on the current invitation: a resend kills it."""
    from accounts.frontdesk import welcome_sheet

    links = []
    real_link = welcome_sheet.invitation_link
    monkeypatch.setattr(welcome_sheet, "invitation_link", lambda user: links.append(real_link(user)) or links[-1])
    enrol(desk, django_capture_on_commit_callbacks)
    patient = User.objects.get(email="dana@example.com")
    desk.get(f"/front-desk/patients/{patient.pk}/welcome/")
    sheet_link = links[-1]
    path = sheet_link.removeprefix("http://127.0.0.1:8000")
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"/front-desk/patients/{patient.pk}/invite/")
    from django.test import Client

    response = Client().get(path, follow=True)
    assert "This link can't be used any more" in response.content.decode()


def test_a_late_enrolments_sheet_shows_the_week_ahead_not_the_days_already_gone(desk, patient):
    make_plan(patient, days_since_race=10)
    page = desk.get(f"/front-desk/patients/{patient.pk}/welcome/").content.decode()
    assert "Your week ahead, from day 10" in page and "Your first week" not in page
    assert "Ice the hip" not in page  # days 0 to 2 are long gone
    # The step's own days, not the sheet's week: it starts on day 15 and runs on (it used to read "to day 16").
    assert "Lunges, squats, clamshells and bridges" in page and "up to 3 times a week, from day 15." in page
    # As Today counts them: a week with fewer days left asks for fewer sessions.
    assert "Low-impact exercise</strong>: up to 3 times a week, any day this week" in page
    assert "Clamshells and hip bridges</strong>: up to 3 times a week, until day 14" in page


def test_the_sheet_leaves_a_clinicians_own_words_to_the_patients_pages(desk, patient, plan):
    """A step a clinician changed for this patient is theirs to read, not reception's: often a diagnosis."""
    from recovery.care import plan_step_change

    plan_step_change(
        plan=plan,
        key="stretch",
        from_date=clinic_today(),
        today=clinic_today(),
        label="Stretches paused (stress fracture)",
        instruction="MRI shows a stress fracture: no stretching.",
    )
    page = desk.get(f"/front-desk/patients/{patient.pk}/welcome/").content.decode()
    assert "stress fracture" not in page and "Stretches paused" not in page
    assert "Gentle hip stretches" not in page  # the protocol's words would tell the patient to stretch
    assert "Your clinician has also set 1 step just for you: you will find it under Today when you log in." in page
    assert "Clamshells and hip bridges" in page  # the steps nobody changed are still printed


def test_an_activated_patients_sheet_has_no_qr_code(desk, patient, plan):
    response = desk.get(f"/front-desk/patients/{patient.pk}/welcome/")
    assert response.context["sheet"]["qr_svg"] is None
    assert "Log in at" in response.content.decode()


def test_no_inline_script_or_style_on_front_desk_pages(desk, patient, plan):
    for url in (FRONT_DESK, ENROL, "/front-desk/import/", f"/front-desk/patients/{patient.pk}/"):
        page = desk.get(url).content.decode()
        assert "style=" not in page
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url


def thirty_invited():
    """Thirty patients invited one after the other, none activated: two pages of the awaiting list (25, then 5)."""
    invited = [PatientFactory(first_name=f"Waiting{n:02d}", invited_at=timezone.now()) for n in range(30)]
    for person in invited:
        person.set_unusable_password()
        person.save()
    return invited


def test_the_lists_go_on_a_page_at_a_time_keeping_the_search_and_the_other_list(desk):
    thirty_invited()
    first = desk.get(FRONT_DESK, {"q": "Waiting01", "inactive_page": "1"})
    page = html.unescape(first.text)
    assert "1–25 of 30, oldest invitation first." in page
    assert 'href="?q=Waiting01&amp;inactive_page=1&amp;awaiting_page=2#awaiting-heading"' in first.text

    second = desk.get(FRONT_DESK, {"q": "Waiting01", "inactive_page": "1", "awaiting_page": "2"})
    assert "26–30 of 30, oldest invitation first." in html.unescape(second.text)
    assert len(second.context["awaiting"]) == 5
    assert 'Previous page<span class="visually-hidden"> of Invited, not yet activated</span>' in second.text
    assert len(second.context["results"]) == 1  # the search is kept


@pytest.mark.parametrize(
    ("asked", "shown", "first", "last"),
    [("0", "26–30", 25, 29), ("999", "26–30", 25, 29), ("-1", "26–30", 25, 29), ("two", "1–25", 0, 24)],
)
def test_a_page_number_out_of_range_shows_a_page_of_the_list(desk, asked, shown, first, last):
    """A number past either end shows the last page; one that is not a number, the first: never an empty list."""
    thirty_invited()
    response = desk.get(FRONT_DESK, {"awaiting_page": asked})
    assert f"{shown} of 30, oldest invitation first." in html.unescape(response.text)
    names = [person.first_name for person in response.context["awaiting"]]
    assert names == [f"Waiting{n:02d}" for n in range(first, last + 1)]
    other_page = "Waiting00" if first else "Waiting25"
    assert f"Waiting{first:02d}" in response.text and other_page not in response.text


def test_a_page_opened_before_a_clinician_corrected_the_race_date_does_not_put_the_old_one_back(desk):
    from recovery.services import plan_race_date_correct
    from tests.admin_forms import form_data

    plan = make_plan(days_since_race=6)
    url = f"/front-desk/patients/{plan.patient.pk}/"
    opened = form_data(desk.get(url), form_id="patient-details")
    corrected = plan.race_date - datetime.timedelta(days=1)
    plan_race_date_correct(plan, corrected)  # a clinician, meanwhile, in the admin

    response = desk.post(url, opened | {"phone": "07700 900123"}, follow=True)
    assert "The details are saved." in response.text
    plan.refresh_from_db()
    plan.patient.refresh_from_db()
    assert (plan.race_date, plan.patient.phone) == (corrected, "07700 900123")

    # A race date changed on that same page is refused once, saying what it is now.
    typed = (corrected - datetime.timedelta(days=1)).isoformat()
    refused = desk.post(url, opened | {"race_date": typed})
    assert f"it now says {corrected:%-d %b %Y}. Nothing is saved yet" in unescape(refused.text)
    plan.refresh_from_db()
    assert plan.race_date == corrected


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saving_a_patients_details_works_outside_a_tests_transaction(desk):
    """As a real request runs: no transaction around the view but its own. On PostgreSQL the form's row locks
    (KeepsWhatItShowed) need one, and without it every save at the desk was a 500."""
    from tests.admin_forms import form_data

    plan = make_plan(days_since_race=6)
    url = f"/front-desk/patients/{plan.patient.pk}/"
    response = desk.post(url, form_data(desk.get(url), form_id="patient-details") | {"phone": "07700 900123"})
    assert response.status_code == 302
    plan.patient.refresh_from_db()
    assert plan.patient.phone == "07700 900123"

"""The audit log: who saw or changed a patient's data, when and from where; refusals; read by superusers only."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from audit.models import Action, AuditEvent, ImmutableEntry
from recovery.clock import clinic_today
from recovery.models import Alert
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinician_client(clinician):
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.force_login(clinician)
    return client


@pytest.fixture
def alert(plan):
    return Alert.objects.create(
        plan=plan, kind=Alert.Kind.HIGH_PAIN, severity=Alert.Severity.HIGH, date=clinic_today(), reason="Pain 8/10."
    )


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).exclude(action__in=[Action.LOGIN, Action.LOGOUT]))


def test_a_clinician_opening_a_patients_page_is_recorded_with_who_what_when_and_where(
    clinician_client, clinician, patient, plan
):
    before = datetime.datetime.now(tz=datetime.UTC)
    url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    with CaptureQueriesContext(connection) as queries:
        assert clinician_client.get(url).status_code == 200
    (event,) = events()
    assert event.action == Action.VIEW
    assert (event.actor, event.actor_email) == (clinician, "physio@example.com")
    assert (event.patient, event.patient_email) == (patient, "alice@example.com")
    assert (event.object_type, event.object_id) == ("recovery.recoveryplan", str(plan.pk))
    assert event.ip_address == "198.51.100.7"
    assert (event.method, event.path, event.status) == ("GET", url, 200)
    assert event.at >= before
    # One INSERT for the request, whatever it recorded.
    inserts = [query for query in queries.captured_queries if query["sql"].startswith('INSERT INTO "audit_')]
    assert len(inserts) == 1


def test_the_clinician_cannot_read_the_audit_log(clinician_client, plan):
    clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk]))
    event = AuditEvent.objects.get(action=Action.VIEW)
    assert clinician_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert clinician_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 403
    assert "Audit log" not in clinician_client.get(reverse("admin:index")).content.decode()


def test_not_even_with_every_audit_permission_given_to_their_group(clinician_client, clinician):
    group = Group.objects.get(name=Role.CLINICIAN)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="audit"))
    assert clinician_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403


def test_a_superuser_reads_it_but_nobody_can_add_change_or_delete_an_entry(clinician_client, superuser, plan):
    clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk]))
    event = AuditEvent.objects.get(action=Action.VIEW)
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get(reverse("admin:audit_auditevent_changelist"))
    assert listing.status_code == 200 and "physio@example.com" in listing.content.decode()
    page = admin.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "login"}).status_code == 403
    assert admin.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert admin.get(reverse("admin:audit_auditevent_add")).status_code == 403
    listing = admin.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    event.refresh_from_db()
    assert event.action == Action.VIEW


def test_entries_refuse_to_be_changed_or_deleted_in_code_too(clinician_client, plan):
    clinician_client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk]))
    event = AuditEvent.objects.get(action=Action.VIEW)
    event.description = "nothing to see"
    with pytest.raises(ImmutableEntry):
        event.save()
    with pytest.raises(ImmutableEntry):
        event.delete()
    with pytest.raises(ImmutableEntry):
        AuditEvent.objects.all().delete()


# -- Every view and change of clinical data by staff ---------------------------------------------------------------


def test_the_clinicians_pages_of_a_patient_are_each_recorded(clinician_client, patient, plan, alert):
    check_in = CheckInFactory(plan=plan, pain=6)
    pages = [
        (reverse("admin:recovery_plan_visit_summary", args=[plan.pk]), "recovery.recoveryplan", str(plan.pk)),
        (reverse("admin:recovery_plan_change_step", args=[plan.pk]), "recovery.recoveryplan", str(plan.pk)),
        (reverse("admin:recovery_checkin_change", args=[check_in.pk]), "recovery.checkin", str(check_in.pk)),
        (reverse("admin:recovery_alert_change", args=[alert.pk]), "recovery.alert", str(alert.pk)),
        (reverse("admin:recovery_recoveryplan_history", args=[plan.pk]), "recovery.recoveryplan", str(plan.pk)),
    ]
    for url, object_type, object_id in pages:
        assert clinician_client.get(url).status_code == 200, url
        event = AuditEvent.objects.filter(path=url).get()
        assert (event.action, event.object_type, event.object_id) == (Action.VIEW, object_type, object_id), url
        assert (event.patient, event.patient_email) == (patient, "alice@example.com"), url


def test_lists_of_patients_data_are_recorded_too(clinician_client):
    for url in [
        reverse("admin:recovery_recoveryplan_changelist") + "?q=alice",
        reverse("admin:recovery_checkin_changelist"),
        reverse("admin:recovery_alert_changelist"),
    ]:
        assert clinician_client.get(url).status_code == 200
        event = AuditEvent.objects.get(path=url)
        assert event.action == Action.VIEW and event.description.startswith("list of")


def test_changes_are_recorded_as_changes(clinician_client, clinician, patient, plan, alert):
    # Confirmed: the plan has an open alert, so the sign-off asks once more first.
    clinician_client.post(reverse("admin:recovery_plan_sign_off", args=[plan.pk]), {"confirmed": "1"})
    sign_off = AuditEvent.objects.get(path=reverse("admin:recovery_plan_sign_off", args=[plan.pk]))
    assert (sign_off.action, sign_off.patient, sign_off.status) == (Action.CHANGE, patient, 302)
    assert "sign off" in sign_off.description
    url = reverse("admin:recovery_alert_change", args=[alert.pk])
    clinician_client.post(url, {"acknowledgement_note": "Phoned her."})
    acknowledged = AuditEvent.objects.filter(path=url, action=Action.CHANGE).get()
    assert acknowledged.patient == patient and acknowledged.actor == clinician


def test_the_adherence_export_is_recorded_as_an_export(clinician_client, plan):
    response = clinician_client.post(
        reverse("admin:recovery_recoveryplan_changelist"),
        {"action": "export_adherence", "_selected_action": [plan.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.description == "adherence CSV of 1 patient(s)"


def test_reception_opening_a_patients_contact_details_is_recorded(reception, patient, plan):
    desk = Client()
    desk.force_login(reception)
    desk.get(reverse("frontdesk:patient", args=[patient.pk]))
    desk.get(reverse("frontdesk:welcome_sheet", args=[patient.pk]))
    desk.post(reverse("frontdesk:deactivate", args=[patient.pk]))
    recorded = [(e.action, e.description) for e in events(actor=reception, patient=patient).__reversed__()]
    assert recorded == [
        (Action.VIEW, "contact details"),
        (Action.VIEW, "welcome sheet"),
        (Action.CHANGE, "switched off, sessions ended"),
    ]


def test_a_superuser_opening_a_patients_account_is_recorded(superuser, patient):
    admin = Client()
    admin.force_login(superuser)
    admin.get(reverse("admin:accounts_user_change", args=[patient.pk]))
    event = AuditEvent.objects.get(action=Action.VIEW, actor=superuser)
    assert event.patient == patient and event.object_type == "accounts.user"


def test_patients_reading_their_own_pages_leave_no_entry(patient_client, plan):
    for name in ["recovery:today", "recovery:check_in", "recovery:progress", "recovery:account", "recovery:tips"]:
        assert patient_client.get(reverse(name)).status_code == 200
    assert events() == []


# -- Refused accesses --------------------------------------------------------------------------------------------


def test_refused_accesses_are_recorded(patient_client, patient, clinician, reception, plan):
    patient_client.get(reverse("admin:recovery_recoveryplan_changelist"))
    patient_client.get(reverse("frontdesk:home"))
    staff = Client()
    staff.force_login(clinician)
    staff.get(reverse("recovery:today"))
    staff.get(reverse("admin:audit_auditevent_changelist"))
    staff.get(reverse("admin:recovery_plan_visit_summary", args=[plan.pk + 1000]))
    refused = {(e.actor_email, e.path, e.status) for e in events(action=Action.ACCESS_DENIED)}
    assert refused == {
        ("alice@example.com", reverse("admin:recovery_recoveryplan_changelist"), 302),
        ("alice@example.com", reverse("frontdesk:home"), 302),
        ("physio@example.com", reverse("recovery:today"), 302),
        ("physio@example.com", reverse("admin:audit_auditevent_changelist"), 403),
        ("physio@example.com", reverse("admin:recovery_plan_visit_summary", args=[plan.pk + 1000]), 404),
    }


def test_anonymous_visitors_sent_to_the_login_page_are_not_noise(client, plan):
    client.get(reverse("recovery:today"))
    client.get(reverse("admin:recovery_recoveryplan_changelist"))
    assert events() == []


# -- Where a request comes from -----------------------------------------------------------------------------------


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(clinician, plan, settings):
    client = Client(REMOTE_ADDR="10.0.0.2", headers={"x-forwarded-for": "203.0.113.9, 192.0.2.44"})
    client.force_login(clinician)
    url = reverse("admin:recovery_recoveryplan_change", args=[plan.pk])
    client.get(url)
    assert AuditEvent.objects.get(path=url).ip_address == "10.0.0.2"
    settings.TRUST_X_FORWARDED_FOR = True
    client.get(url + "?again")
    # The address our proxy appended last: the ones before it are whatever the client claimed.
    assert AuditEvent.objects.get(path=url + "?again").ip_address == "192.0.2.44"

"""The authorisation matrix: every URL of the portal, the admin included, opened by each kind of person.

The table below says what each of anonymous, patient A (Alice), patient B (Charlie), reception, a clinician and a
(two-factor verified) superuser gets for a GET of each route. The walk covers every pattern Django knows, so a new
URL without a row fails ``test_every_url_has_a_row``. Answers:

- ``200`` (and ``Cache-Control: no-store``), ``403``, ``404``, ``405`` (a state change refuses GET, or sends it back
  to the page its form is on);
- ``LOGIN``: sent to /accounts/login/?next=…; ``ADMIN_LOGIN``: sent to /admin/login/?next=… (which itself sends
  people to the portal's login, or their own home); ``HOME``: sent to their own place (``/``);
- ``to(path)``: any other redirect, to exactly that place.

Only GETs are sent here; the state changes are POST only, and CSRF-protected (tests at the end).
"""

import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from accounts.roles import Role
from audit.models import Action, AuditEvent
from recovery.clock import clinic_today
from recovery.models import Alert, Disclaimer, Phase, Protocol, ProtocolStep, SafetyThresholds, Tip
from reminders.models import ReminderDelivery, ReminderSettings
from tests.factories import CheckInFactory, make_plan

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "alice", "charlie", "reception", "clinician", "superuser"]

LOGIN = "LOGIN"
ADMIN_LOGIN = "ADMIN_LOGIN"
HOME = "HOME"


def to(path):
    return ("to", path)


def row(anonymous, alice, charlie, reception, clinician, superuser):
    return dict(zip(ROLES, [anonymous, alice, charlie, reception, clinician, superuser], strict=True))


def everyone(answer):
    return row(answer, answer, answer, answer, answer, answer)


# Profiles shared by many routes.
PUBLIC = everyone(200)
PATIENT_PAGE = row(LOGIN, 200, 200, HOME, HOME, HOME)
FRONT_DESK = row(LOGIN, HOME, HOME, 200, HOME, 200)
POST_ONLY = everyone(405)
# The clinician's workspace: staff with the Clinician role, and superusers.
CLINICAL = row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200, 200)
# Admin pages a clinician may not open (accounts, groups, lockouts, devices, the audit log): superusers only.
SUPERUSER_ONLY = row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 200)
# Staff-only pages nobody may use in that form (adding a plan, an alert, an audit entry…).
NOBODY = row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403, 403)
ADMIN_POST_ONLY = row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 405, 405)
# The admin's bare object URL (…/<id>/) forwards staff to the object's change page, which then decides.
CHANGE_PAGE = "CHANGE_PAGE"
OBJECT_URL = row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, CHANGE_PAGE, CHANGE_PAGE)
# Alice's plan in the clinician's workspace (where sign-off and status changes send a GET back to).
PLAN_PAGE = "PLAN_PAGE"
# Alice's page at the front desk, and the pages the portal's own POST-only actions send a GET back to (a form sent
# after the session ran out comes back from the login page as a GET: clinic/post_only.py). That page decides.
DESK_PAGE = "DESK_PAGE"
BACK_TO_DESK = everyone(DESK_PAGE)
BACK_TO_TODAY = everyone(to("/today/"))


def admin_model(changelist, add, history, delete, change, redirect, extra=None):
    """The six routes the admin gives each registered model (``redirect``: the bare object URL)."""
    return {
        "changelist": changelist,
        "add": add,
        "history": history,
        "delete": delete,
        "change": change,
        "redirect": redirect,
        **(extra or {}),
    }


# -- Walking every URL pattern ----------------------------------------------------------------------------------


def url_patterns(patterns=None, prefix="", namespace=None):
    """(key, pattern string, URLPattern) for every route: ``namespace:name``, or the pattern for unnamed ones."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name or pattern, pattern, entry


ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


class World:
    """One of everything a route can point at, and a client for each person."""

    def __init__(self, patient, other_patient, reception, clinician, superuser):
        today = clinic_today()
        self.alice, self.charlie = patient, other_patient
        self.plan = make_plan(patient, days_since_race=5)
        self.other_plan = make_plan(other_patient, days_since_race=3)
        self.check_in = CheckInFactory(plan=self.plan, pain=7)
        self.alert = Alert.objects.create(
            plan=self.plan, kind=Alert.Kind.HIGH_PAIN, severity=Alert.Severity.HIGH, date=today, reason="Pain 7/10."
        )
        self.tip = Tip.objects.published().order_by("pk").first()
        self.device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
        attempt = {"user_agent": "test", "ip_address": "192.0.2.1", "username": "x@example.com", "http_accept": "*/*"}
        objects = [
            Group.objects.get(name=Role.PATIENT),
            patient,
            self.tip,
            Disclaimer.objects.order_by("pk").first(),
            SafetyThresholds.objects.order_by("pk").first(),
            Protocol.objects.default(),
            ProtocolStep.objects.order_by("pk").first(),
            Phase.objects.order_by("pk").first(),
            self.plan,
            self.alert,
            self.check_in,
            AccessAttempt.objects.create(**attempt, path_info="/", get_data="", post_data="", failures_since_start=1),
            AccessLog.objects.create(**attempt, path_info="/"),
            AccessFailureLog.objects.create(**attempt, path_info="/"),
            self.device,
            AuditEvent.objects.create(action=Action.VIEW, actor=clinician, actor_email=clinician.email),
            ReminderSettings.objects.create(user=patient),
            ReminderDelivery.objects.create(user=patient, date=today, slot="daily", due_at=self.alert.created_at),
            DBTaskResult.objects.create(
                args_kwargs={"args": [1], "kwargs": {}},
                task_path="reminders.delivery.reminder_send",
                backend_name="default",
            ),
        ]
        self.by_model = {(obj._meta.app_label, obj._meta.model_name): obj for obj in objects}
        self.clients = {"anonymous": Client()}
        for role, person in [
            ("alice", patient),
            ("charlie", other_patient),
            ("reception", reception),
            ("clinician", clinician),
            ("superuser", superuser),
        ]:
            client = Client()
            client.force_login(person)
            self.clients[role] = client
        session = self.clients["superuser"].session
        session[DEVICE_ID_SESSION_KEY] = self.device.persistent_id  # the superuser has typed a code
        session.save()

    def object_for(self, pattern):
        match = ADMIN_MODEL_ROUTE.match(pattern)
        return self.by_model.get((match["app"], match["model"])) if match else None

    def url(self, key, pattern, entry):
        """A real URL for the route, its arguments filled with real objects (Alice's, when they are a patient's)."""
        if key == "admin/(?P<url>.*)$":
            return "/admin/no-such-page/"
        if key == "admin:app_list":
            return reverse(key, kwargs={"app_label": "recovery"})
        if key == "admin:view_on_site":
            kind = ContentType.objects.get_for_model(Tip)
            return reverse(key, kwargs={"content_type_id": kind.pk, "object_id": self.tip.pk})
        if key.endswith("_simple_history"):
            obj = self.object_for(pattern)
            return reverse(key, args=[obj.pk, obj.history.order_by("history_id").first().history_id])
        values = {
            "pk": self.alice.pk if key.startswith("frontdesk:") else None,
            "step_id": self.plan.steps.order_by("pk").first().pk,
            "slug": self.tip.slug,
            "uidb64": urlsafe_base64_encode(force_bytes(self.alice.pk)),
            "token": "set-password",
            "id": self.alice.pk,
        }
        if pattern.startswith("admin/"):
            obj = self.object_for(pattern)
            if obj is not None:
                values["pk"] = values["object_id"] = obj.pk
                if "version_id" in pattern:
                    values["version_id"] = obj.history.order_by("history_id").first().history_id
        if not entry.name:
            return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), pattern)
        names = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        return reverse(key, kwargs={name: values[name] for name in names})


@pytest.fixture
def world(patient, other_patient, reception, clinician, superuser, settings):
    # Production's rule: a superuser's session must be verified with a second factor (theirs is, in World).
    settings.TWO_FACTOR_REQUIRED_FOR_SUPERUSERS = True
    return World(patient, other_patient, reception, clinician, superuser)


def outcome(response, url, world):
    if response.status_code in (301, 302):
        location = response["Location"]
        if location == url + "change/":
            return CHANGE_PAGE
        if location == reverse("admin:recovery_recoveryplan_change", args=[world.plan.pk]):
            return PLAN_PAGE
        if location == reverse("frontdesk:patient", args=[world.alice.pk]):
            return DESK_PAGE
        if location.startswith(reverse("accounts:login") + "?next="):
            return LOGIN
        if location.startswith(reverse("admin:login") + "?next="):
            return ADMIN_LOGIN
        if location == reverse("home"):
            return HOME
        return to(location)
    return response.status_code


# The privacy notice is the same for everyone and holds nobody's data: it may be cached.
PUBLIC_CACHEABLE = set()  # none: every page carries a CSRF token in its htmx headers


def walk(world):
    """{key: {role: answer}} for a GET of every route by every person."""
    seen = {}
    for key, pattern, entry in url_patterns():
        url = world.url(key, pattern, entry)
        seen[key] = {}
        for role in ROLES:
            response = world.clients[role].get(url)
            seen[key][role] = outcome(response, url, world)
            if response.status_code == 200 and key not in PUBLIC_CACHEABLE:
                assert "no-store" in response.get("Cache-Control", ""), f"{url} as {role} may be cached"
                if role == "charlie":
                    assert world.alice.email not in response.content.decode(), f"{url} shows Charlie Alice's data"
    return seen


# -- The table ----------------------------------------------------------------------------------------------------

EXPECTED = {
    "home": row(to("/accounts/login/"), to("/today/"), to("/today/"), to("/front-desk/"), to("/admin/"), to("/admin/")),
    "healthz": PUBLIC,
    "favicon": everyone(to("/static/favicon.svg")),
    "too_big": everyone(413),  # the page the TLS proxy shows when it refuses a body (deploy/nginx.conf)
    "accounts:login": row(200, HOME, HOME, HOME, HOME, HOME),
    "accounts:logout": POST_ONLY,
    "accounts:still_here": POST_ONLY,
    "accounts:two_factor": row(LOGIN, HOME, HOME, 200, 200, 200),
    "accounts:two_factor_verify": row(
        to("/accounts/login/"),
        to("/accounts/login/"),
        to("/accounts/login/"),
        to("/accounts/login/"),
        to("/accounts/login/"),
        to("/accounts/login/"),
    ),
    "accounts:password_change": row(LOGIN, 200, 200, 200, 200, 200),
    "accounts:password_change_done": row(LOGIN, 200, 200, 200, 200, 200),
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,
    "accounts:password_reset_complete": PUBLIC,
    "frontdesk:home": FRONT_DESK,
    "frontdesk:enrol": FRONT_DESK,
    "frontdesk:intake": FRONT_DESK,
    "frontdesk:intake_confirm": everyone(to("/front-desk/import/")),
    # With no upload waiting in the session, reception is sent back to upload one.
    "frontdesk:intake_to_fix": row(LOGIN, HOME, HOME, to("/front-desk/import/"), HOME, to("/front-desk/import/")),
    "frontdesk:intake_sheets": row(LOGIN, HOME, HOME, to("/front-desk/import/"), HOME, to("/front-desk/import/")),
    "frontdesk:patient": FRONT_DESK,
    "frontdesk:plan_start": FRONT_DESK,
    "frontdesk:welcome_sheet": FRONT_DESK,
    "frontdesk:invite": BACK_TO_DESK,
    "frontdesk:deactivate": BACK_TO_DESK,
    "frontdesk:reactivate": BACK_TO_DESK,
    "welcome": PUBLIC,
    "privacy": PUBLIC,
    "recovery:today": PATIENT_PAGE,
    "recovery:tick": BACK_TO_TODAY,
    "recovery:excuse": BACK_TO_TODAY,
    "recovery:check_in": PATIENT_PAGE,
    "recovery:progress": PATIENT_PAGE,
    "recovery:tips": PATIENT_PAGE,
    "recovery:tip": PATIENT_PAGE,
    "recovery:account": PATIENT_PAGE,
    "recovery:export_json": PATIENT_PAGE,
    "recovery:export_csv": PATIENT_PAGE,
    "admin_login": row(to("/accounts/login/"), HOME, HOME, HOME, to("/admin/"), to("/admin/")),
    "admin:index": CLINICAL,
    "admin:login": row(to("/accounts/login/"), HOME, HOME, HOME, to("/admin/"), to("/admin/")),
    "admin:logout": row(to("/admin/"), to("/admin/"), to("/admin/"), to("/admin/"), 405, 405),
    "admin:password_change": CLINICAL,
    "admin:password_change_done": CLINICAL,
    "admin:autocomplete": NOBODY,
    "admin:jsi18n": CLINICAL,
    "admin:view_on_site": row(
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        to("http://testserver/tips/rest-and-recovery/"),
        to("http://testserver/tips/rest-and-recovery/"),
    ),
    "admin:auth_group_changelist": SUPERUSER_ONLY,
    "admin:auth_group_add": SUPERUSER_ONLY,
    "admin:auth_group_history": SUPERUSER_ONLY,
    "admin:auth_group_delete": SUPERUSER_ONLY,
    "admin:auth_group_change": SUPERUSER_ONLY,
    "admin/auth/group/<path:object_id>/": OBJECT_URL,
    "admin:auth_user_password_change": SUPERUSER_ONLY,
    "admin:accounts_user_changelist": CLINICAL,
    "admin:accounts_user_add": SUPERUSER_ONLY,
    "admin:accounts_user_history": CLINICAL,
    "admin:accounts_user_delete": SUPERUSER_ONLY,
    "admin:accounts_user_change": CLINICAL,
    "admin/accounts/user/<path:object_id>/": OBJECT_URL,
    "admin:recovery_tip_preview": CLINICAL,
    "admin:recovery_tip_revert": ADMIN_POST_ONLY,
    "admin:recovery_tip_simple_history": CLINICAL,
    "admin:recovery_tip_changelist": CLINICAL,
    "admin:recovery_tip_add": CLINICAL,
    "admin:recovery_tip_history": CLINICAL,
    "admin:recovery_tip_delete": CLINICAL,
    "admin:recovery_tip_change": CLINICAL,
    "admin/recovery/tip/<path:object_id>/": OBJECT_URL,
    "admin:recovery_disclaimer_revert": ADMIN_POST_ONLY,
    "admin:recovery_disclaimer_simple_history": CLINICAL,
    "admin:recovery_disclaimer_changelist": CLINICAL,
    "admin:recovery_disclaimer_add": NOBODY,
    "admin:recovery_disclaimer_history": CLINICAL,
    "admin:recovery_disclaimer_delete": NOBODY,
    "admin:recovery_disclaimer_change": CLINICAL,
    "admin/recovery/disclaimer/<path:object_id>/": OBJECT_URL,
    "admin:recovery_safetythresholds_revert": ADMIN_POST_ONLY,
    "admin:recovery_safetythresholds_simple_history": CLINICAL,
    "admin:recovery_safetythresholds_changelist": CLINICAL,
    "admin:recovery_safetythresholds_add": NOBODY,
    "admin:recovery_safetythresholds_history": CLINICAL,
    "admin:recovery_safetythresholds_delete": NOBODY,
    "admin:recovery_safetythresholds_change": CLINICAL,
    "admin/recovery/safetythresholds/<path:object_id>/": OBJECT_URL,
    "admin:recovery_protocol_revert": ADMIN_POST_ONLY,
    "admin:recovery_protocol_simple_history": CLINICAL,
    "admin:recovery_protocol_changelist": CLINICAL,
    "admin:recovery_protocol_add": CLINICAL,
    "admin:recovery_protocol_history": CLINICAL,
    "admin:recovery_protocol_delete": CLINICAL,
    "admin:recovery_protocol_change": CLINICAL,
    "admin:recovery_protocol_update_plans": CLINICAL,  # a preview; the update itself is a POST
    "admin/recovery/protocol/<path:object_id>/": OBJECT_URL,
    "admin:recovery_protocolstep_revert": ADMIN_POST_ONLY,
    "admin:recovery_protocolstep_simple_history": CLINICAL,
    "admin:recovery_protocolstep_changelist": CLINICAL,
    "admin:recovery_protocolstep_add": CLINICAL,
    "admin:recovery_protocolstep_history": CLINICAL,
    "admin:recovery_protocolstep_delete": CLINICAL,
    "admin:recovery_protocolstep_change": CLINICAL,
    "admin/recovery/protocolstep/<path:object_id>/": OBJECT_URL,
    "admin:recovery_phase_revert": ADMIN_POST_ONLY,
    "admin:recovery_phase_simple_history": CLINICAL,
    "admin:recovery_phase_changelist": CLINICAL,
    "admin:recovery_phase_add": CLINICAL,
    "admin:recovery_phase_history": CLINICAL,
    "admin:recovery_phase_delete": CLINICAL,
    "admin:recovery_phase_change": CLINICAL,
    "admin/recovery/phase/<path:object_id>/": OBJECT_URL,
    "admin:recovery_plan_change_step": CLINICAL,
    "admin:recovery_plan_add_step": CLINICAL,
    "admin:recovery_plan_sign_off": row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, PLAN_PAGE, PLAN_PAGE),
    "admin:recovery_plan_status": row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, PLAN_PAGE, PLAN_PAGE),
    "admin:recovery_plan_reenrol": CLINICAL,
    "admin:recovery_plan_visit_summary": CLINICAL,
    "admin:recovery_recoveryplan_changelist": CLINICAL,
    "admin:recovery_recoveryplan_add": NOBODY,
    "admin:recovery_recoveryplan_history": CLINICAL,
    "admin:recovery_recoveryplan_delete": SUPERUSER_ONLY,
    "admin:recovery_recoveryplan_change": CLINICAL,
    "admin/recovery/recoveryplan/<path:object_id>/": OBJECT_URL,
    "admin:recovery_alert_changelist": CLINICAL,
    "admin:recovery_alert_add": NOBODY,
    "admin:recovery_alert_history": CLINICAL,
    "admin:recovery_alert_delete": NOBODY,
    "admin:recovery_alert_change": CLINICAL,
    "admin/recovery/alert/<path:object_id>/": OBJECT_URL,
    "admin:recovery_checkin_changelist": CLINICAL,
    "admin:recovery_checkin_add": NOBODY,
    "admin:recovery_checkin_history": CLINICAL,
    "admin:recovery_checkin_delete": NOBODY,
    "admin:recovery_checkin_change": CLINICAL,
    "admin/recovery/checkin/<path:object_id>/": OBJECT_URL,
    "admin:axes_accessattempt_changelist": SUPERUSER_ONLY,
    "admin:axes_accessattempt_add": NOBODY,
    "admin:axes_accessattempt_history": SUPERUSER_ONLY,
    "admin:axes_accessattempt_delete": SUPERUSER_ONLY,
    "admin:axes_accessattempt_change": SUPERUSER_ONLY,
    "admin/axes/accessattempt/<path:object_id>/": OBJECT_URL,
    "admin:axes_accesslog_changelist": SUPERUSER_ONLY,
    "admin:axes_accesslog_add": NOBODY,
    "admin:axes_accesslog_history": SUPERUSER_ONLY,
    "admin:axes_accesslog_delete": SUPERUSER_ONLY,
    "admin:axes_accesslog_change": SUPERUSER_ONLY,
    "admin/axes/accesslog/<path:object_id>/": OBJECT_URL,
    "admin:axes_accessfailurelog_changelist": SUPERUSER_ONLY,
    "admin:axes_accessfailurelog_add": NOBODY,
    "admin:axes_accessfailurelog_history": SUPERUSER_ONLY,
    "admin:axes_accessfailurelog_delete": SUPERUSER_ONLY,
    "admin:axes_accessfailurelog_change": SUPERUSER_ONLY,
    "admin/axes/accessfailurelog/<path:object_id>/": OBJECT_URL,
    "admin:otp_totp_totpdevice_config": SUPERUSER_ONLY,
    "admin:otp_totp_totpdevice_qrcode": SUPERUSER_ONLY,
    "admin:otp_totp_totpdevice_changelist": SUPERUSER_ONLY,
    "admin:otp_totp_totpdevice_add": SUPERUSER_ONLY,
    "admin:otp_totp_totpdevice_history": SUPERUSER_ONLY,
    "admin:otp_totp_totpdevice_delete": SUPERUSER_ONLY,
    "admin:otp_totp_totpdevice_change": SUPERUSER_ONLY,
    "admin/otp_totp/totpdevice/<path:object_id>/": OBJECT_URL,
    "admin:audit_auditevent_changelist": SUPERUSER_ONLY,
    "admin:audit_auditevent_add": NOBODY,
    "admin:audit_auditevent_history": SUPERUSER_ONLY,
    "admin:audit_auditevent_delete": NOBODY,
    "admin:audit_auditevent_change": SUPERUSER_ONLY,
    "admin/audit/auditevent/<path:object_id>/": OBJECT_URL,
    # Reminders and the task queue, read only: for whoever looks after the portal (issue 10).
    "reminders:settings": PATIENT_PAGE,
    "reminders:unsubscribe": everyone(400),  # the walk's token is no signed one: the plain "link does not work"
    "admin:reminders_remindersettings_changelist": SUPERUSER_ONLY,
    "admin:reminders_remindersettings_add": NOBODY,
    "admin:reminders_remindersettings_history": SUPERUSER_ONLY,
    "admin:reminders_remindersettings_delete": NOBODY,
    "admin:reminders_remindersettings_change": SUPERUSER_ONLY,
    "admin/reminders/remindersettings/<path:object_id>/": OBJECT_URL,
    "admin:reminders_reminderdelivery_changelist": SUPERUSER_ONLY,
    "admin:reminders_reminderdelivery_add": NOBODY,
    "admin:reminders_reminderdelivery_history": SUPERUSER_ONLY,
    "admin:reminders_reminderdelivery_delete": NOBODY,
    "admin:reminders_reminderdelivery_change": SUPERUSER_ONLY,
    "admin/reminders/reminderdelivery/<path:object_id>/": OBJECT_URL,
    "admin:django_tasks_database_dbtaskresult_changelist": SUPERUSER_ONLY,
    "admin:django_tasks_database_dbtaskresult_add": NOBODY,
    "admin:django_tasks_database_dbtaskresult_history": SUPERUSER_ONLY,
    "admin:django_tasks_database_dbtaskresult_delete": NOBODY,
    "admin:django_tasks_database_dbtaskresult_change": SUPERUSER_ONLY,
    "admin/django_tasks_database/dbtaskresult/<path:object_id>/": OBJECT_URL,
    "admin:app_list": CLINICAL,
    "admin/(?P<url>.*)$": row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404, 404),
}


def test_every_url_has_a_row():
    routes = {key for key, _, _ in url_patterns()}
    assert routes - EXPECTED.keys() == set(), "New URLs: add a row to EXPECTED saying who may open them"
    assert EXPECTED.keys() - routes == set(), "Rows for URLs that no longer exist: remove them"


def test_each_person_gets_exactly_the_answer_in_the_table(world):
    seen = walk(world)
    wrong = [
        f"{key} as {role}: expected {EXPECTED[key][role]!r}, got {answer!r}"
        for key, answers in seen.items()
        for role, answer in answers.items()
        if key in EXPECTED and EXPECTED[key][role] != answer
    ]
    assert wrong == [], "\n".join(wrong)


# -- State changes: POST only, CSRF-protected, and never on someone else's record ---------------------------------


def test_a_patient_cannot_tick_another_patients_step(world):
    step = world.plan.steps.order_by("pk").first()
    response = world.clients["charlie"].post(
        reverse("recovery:tick", args=[step.pk]), {"date": clinic_today().isoformat(), "count": 1}
    )
    assert response.status_code == 404
    assert not world.plan.completions.exists()
    refused = AuditEvent.objects.filter(action=Action.ACCESS_DENIED, actor=world.charlie).get()
    assert refused.status == 404 and refused.path == reverse("recovery:tick", args=[step.pk])


def test_reception_cannot_open_a_staff_members_account_at_the_front_desk(world, clinician):
    response = world.clients["reception"].get(reverse("frontdesk:patient", args=[clinician.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "url_name", "args"),
    [
        ("alice", "recovery:tick", "step"),
        ("alice", "recovery:check_in", None),
        ("alice", "recovery:excuse", None),
        ("alice", "accounts:logout", None),
        ("alice", "accounts:password_change", None),
        ("reception", "frontdesk:deactivate", "alice"),
        ("reception", "frontdesk:enrol", None),
        ("reception", "accounts:still_here", None),
        ("clinician", "admin:recovery_plan_sign_off", "plan"),
        ("clinician", "admin:recovery_plan_change_step", "plan"),
        ("clinician", "admin:recovery_protocol_update_plans", "protocol"),
    ],
)
def test_state_changes_refuse_a_post_without_the_csrf_token(world, role, url_name, args):
    client = Client(enforce_csrf_checks=True)
    client.cookies = world.clients[role].cookies
    argument = {
        "step": world.plan.steps.order_by("pk").first().pk,
        "alice": world.alice.pk,
        "plan": world.plan.pk,
        "protocol": world.plan.protocol_id,
    }
    url = reverse(url_name, args=[argument[args]] if args else None)
    response = client.post(url, {"date": clinic_today().isoformat(), "count": 1, "pain": 3})
    assert response.status_code == 403, url  # the same session, only without the token
    world.alice.refresh_from_db()
    assert world.alice.is_active and not world.plan.completions.exists()


def test_reception_given_the_staff_flag_by_mistake_still_sees_no_patient_or_account_in_the_admin(reception, patient):
    # The front desk checks the Reception group; the admin checks model permissions, and the group holds none.
    reception.is_staff = True
    reception.save()
    client = Client()
    client.force_login(reception)
    plan = make_plan(patient)
    assert client.get(reverse("admin:recovery_recoveryplan_changelist")).status_code == 403
    assert client.get(reverse("admin:recovery_recoveryplan_change", args=[plan.pk])).status_code == 403
    assert client.get(reverse("admin:accounts_user_change", args=[patient.pk])).status_code == 403
    response = client.post(reverse("admin:accounts_user_change", args=[reception.pk]), {"is_superuser": "on"})
    assert response.status_code == 403
    reception.refresh_from_db()
    assert not reception.is_superuser

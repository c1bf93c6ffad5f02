"""The front desk's writes: enrol one patient or a group, change contact details, switch an account off and on.

Each is atomic; each invitation e-mail is queued to leave after the commit (accounts/frontdesk/invitations.py).
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.frontdesk.invitations import invitation_renew, invitations_queue
from accounts.roles import Role
from recovery.services import Refused, plan_enrol, plan_enrol_many, plan_race_date_correct

User = get_user_model()


def _patient_group():
    return Group.objects.get(name=Role.PATIENT)


@transaction.atomic
def patient_enrol(*, first_name, last_name, email, race_date, protocol, date_of_birth=None, phone="", clinician=None):
    """Create a patient's account (no usable password: they choose one through the invitation) and their plan."""
    patient = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        date_of_birth=date_of_birth,
        invited_at=timezone.now(),
    )
    patient.set_unusable_password()
    patient.save()
    patient.groups.add(_patient_group())
    plan_enrol(patient=patient, protocol=protocol, race_date=race_date, clinician=clinician)
    invitations_queue([patient])
    return patient


@transaction.atomic
def patients_enrol(*, rows, protocol, clinician=None):
    """Enrol a checked group intake, all or nothing, in a few bulk queries whatever its size.

    ``rows`` carry first_name, last_name, email, phone and race_date (see accounts/frontdesk/intake.py).
    """
    now = timezone.now()
    patients = [
        User(
            email=row.email.strip().lower(),  # bulk_create skips User.save(), which lower-cases
            first_name=row.first_name,
            last_name=row.last_name,
            phone=row.phone,
            invited_at=now,
            password=make_password(None),  # unusable, as set_unusable_password() would make it
        )
        for row in rows
    ]
    User.objects.bulk_create(patients, batch_size=500)
    Membership = User.groups.through
    group = _patient_group()
    Membership.objects.bulk_create(
        [Membership(user_id=patient.pk, group_id=group.pk) for patient in patients], batch_size=1000
    )
    plan_enrol_many(
        enrolments=[(patient, row.race_date) for patient, row in zip(patients, rows, strict=True)],
        protocol=protocol,
        clinician=clinician,
    )
    invitations_queue(patients)
    return patients


SWITCHED_OFF = "This account is switched off. Switch it back on before starting a new plan."
PLAN_STILL_OPEN = (
    "{patient} already has an open plan. Only a clinician can end a plan: ask one to re-enrol them from it in the "
    "admin."
)


def patient_plan_start(*, patient, race_date, protocol, clinician=None):
    """A returning patient's next plan, e.g. after another race, started at the desk as a new patient's would be.

    Their account, password and history stay as they are. One who never chose a password gets a new invitation
    (the last one's link is long dead, and the welcome sheet points to the e-mail). Refused while another plan is
    open: ending a plan is a clinician's decision (their re-enrol does both).
    """
    if not patient.is_active:
        raise Refused(SWITCHED_OFF)
    try:
        with transaction.atomic():
            plan = plan_enrol(patient=patient, protocol=protocol, race_date=race_date, clinician=clinician)
            if not patient.is_activated:
                invitation_renew(patient)
            return plan
    except IntegrityError:  # the database allows one open plan per patient (a second click included)
        raise Refused(PLAN_STILL_OPEN.format(patient=patient)) from None


CONTACT_FIELDS = ["first_name", "last_name", "email", "phone", "date_of_birth"]


EMAIL_FIXED = (
    "The patient has chosen a password and signs in with this address, so it can't be changed at the front desk. "
    "The clinic's administrator can change it."
)


def email_changeable_at_the_desk(patient):
    """Reception corrects the address of a patient still waiting to activate (a typing mistake at enrolment). Once
    the patient signs in with it, the address is the key to their health data: reception changing it and then
    asking for a password reset would open the patient's account, so only an administrator may (least privilege)."""
    return not patient.is_activated


@transaction.atomic
def patient_details_change(*, patient, plan=None, race_date=None, **contact):
    """Correct a patient's contact details and, on their open plan, the race date (the plan's days follow it).

    A changed e-mail address kills the links sent to the old one (it is part of the token); a patient still
    waiting to activate gets a new invitation at the new address. Returns True when that happened. The address
    of an activated patient is kept (``email_changeable_at_the_desk``).
    """
    old_email = patient.email
    if not email_changeable_at_the_desk(patient):
        contact.pop("email", None)
    for name in CONTACT_FIELDS:
        if name in contact:
            setattr(patient, name, contact[name])
    patient.save(update_fields=[name for name in CONTACT_FIELDS if name in contact])
    if plan is not None and race_date is not None and plan.race_date != race_date:
        plan_race_date_correct(plan, race_date)
    if patient.email != old_email and patient.is_active and not patient.is_activated:
        # The earlier invitations went to the mistyped address: at this one, this is the first.
        invitation_renew(patient, replaces_earlier=False)
        return True
    return False


@transaction.atomic
def patient_invite(*, patient):
    """Send a new invitation; every older link (e-mail or printed sheet) stops working."""
    invitation_renew(patient)


@transaction.atomic
def patient_deactivate(*, patient):
    """Switch the account off: no login, logged out everywhere now. Their plan and history are kept.

    The links of an invitation not yet used die for good (``invited_at`` is part of their token; the active flag
    alone would bring them back with the account), and one still waiting to be e-mailed is not sent.
    """
    patient.is_active = False
    fields = ["is_active"]
    if not patient.is_activated:
        patient.invited_at = timezone.now()
        fields.append("invited_at")
    patient.save(update_fields=fields)
    sessions_end(patient)


@transaction.atomic
def patient_reactivate(*, patient):
    """Switch the account back on. A patient who never chose a password gets a new invitation (their old links
    died with the switch-off). Returns True when one is on its way."""
    patient.is_active = True
    patient.save(update_fields=["is_active"])
    if not patient.is_activated:
        invitation_renew(patient)
        return True
    return False


def sessions_end(user):
    """Delete every stored session of ``user``.

    With database sessions (``db``, or ``cached_db`` with Redis) each live session is read once: fine for a
    clinic's few thousand. With other session engines nothing is deleted here, but Django's ModelBackend already
    refuses the sessions of an inactive account on their next request.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return 0
    Session = store.get_model_class()
    mine = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(store().decode(session.session_data).get("_auth_user_id")) == str(user.pk)
    ]
    for session_key in mine:
        store(session_key=session_key).delete()  # with cached_db sessions, the cached copy goes too
    return len(mine)

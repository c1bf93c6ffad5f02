"""Recording audit events: views say what they showed or changed with ``note()``; AuditMiddleware writes the
request's events in one INSERT after the response, with the answer's status.

Patients reading their own pages are not recorded (the log is about other people's access to a patient's data).
"""

import ipaddress
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Subquery, Value
from django.db.models.functions import Coalesce

from audit.models import Action, AuditEvent

logger = logging.getLogger("audit")

PENDING_ATTR = "_audit_events"


def client_ip(request):
    """The address a request came from: REMOTE_ADDR, or the last X-Forwarded-For entry (the one our own proxy
    appended) when ``TRUST_X_FORWARDED_FOR`` says a proxy sits in front. Also django-axes's idea of the address."""
    candidates = []
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidates.append(forwarded.split(",")[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _person(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def build(request, action, *, target=None, patient=None, patient_id=None, description="", user=None, actor_email=""):
    """An unsaved event for ``request``: who (``user`` or the signed-in user), what, whose, from where.

    Whose: ``patient`` (a loaded user), or ``patient_id`` (a number or a subquery, e.g. through a check-in's plan).
    Given an id, the patient's e-mail is copied by a subquery inside the INSERT itself: no extra query.
    """
    actor = _person(user) or _person(getattr(request, "user", None) if request is not None else None)
    event = AuditEvent(
        action=action,
        actor=actor,
        actor_email=(actor.email if actor is not None else actor_email)[:254],
        description=str(description)[:200],
    )
    if _person(patient) is not None:
        event.patient = patient
        event.patient_email = patient.email
    elif patient_id is not None:
        event.patient_id = patient_id
        email = get_user_model().objects.filter(pk=patient_id).values("email")[:1]
        event.patient_email = Coalesce(Subquery(email), Value(""))
    if target is not None:
        event.object_type = target._meta.label_lower
        event.object_id = str(target.pk)
        if not description:
            event.description = f"{target._meta.verbose_name} {target.pk}"[:200]
    if request is not None:
        event.ip_address = client_ip(request)
        event.method = (request.method or "")[:8]
        event.path = request.get_full_path()[:500] if request.path else ""
    return event


def note(request, action, **details):
    """Record that this request did ``action`` (see ``build`` for the details).

    Inside a request that passes through AuditMiddleware the event waits for the response (one INSERT for the
    whole request); elsewhere (a command, a test's force_login) it is saved at once.
    """
    event = build(request, action, **details)
    pending = getattr(request, PENDING_ATTR, None) if request is not None else None
    if pending is None:
        save([event])
    elif not any(_same(event, other) for other in pending):
        pending.append(event)
    return event


def _same(one, other):
    return (one.action, one.object_type, one.object_id, one.description) == (
        other.action,
        other.object_type,
        other.object_id,
        other.description,
    )


def refused(request, reason):
    """A signed-in person was turned away from a page that is not theirs (e.g. staff on a patient's page)."""
    return note(request, Action.ACCESS_DENIED, description=reason)


def save(events):
    """One INSERT. A database that cannot take it is logged loudly, with the events, rather than failing a page
    that has already been produced."""
    try:
        AuditEvent.objects.bulk_create(events)
    except Exception:
        for event in events:
            logger.error(
                "audit event NOT stored: %s %s %s %s patient=%s ip=%s %s",
                event.actor_email,
                event.action,
                event.description,
                event.object_id,
                event.patient_email,
                event.ip_address,
                event.path,
                exc_info=True,
            )
        raise

"""Writes the audit events of a request (see audit/recorder.py), and records refused accesses on its own."""

from django.db import DatabaseError
from django.urls import reverse

from audit.models import Action
from audit.recorder import PENDING_ATTR, build, save

# URL namespaces whose pages show or change a patient's data: a 404 there for a signed-in person is most likely
# an attempt at someone else's record (ids of other patients' plans, steps, check-ins), and is recorded.
PATIENT_DATA_NAMESPACES = {"recovery", "frontdesk", "admin"}


class AuditMiddleware:
    """Collects the events that views ``note()`` during the request and stores them in one INSERT, with the
    answer's status. A request that noted nothing is still recorded when it was refused: a 403 for anyone; for a
    signed-in person, a 404 on a patient-data page, or a staff-only page that sent them to the admin's login."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        setattr(request, PENDING_ATTR, [])
        response = self.get_response(request)
        events = getattr(request, PENDING_ATTR)
        if not events:
            reason = self.refusal(request, response)
            if reason:
                events = [build(request, Action.ACCESS_DENIED, description=reason)]
        if events:
            for event in events:
                event.status = response.status_code
            try:
                save(events)
            except DatabaseError:
                pass  # logged with the events by save(): the page itself was already produced
        return response

    @staticmethod
    def refusal(request, response):
        status = response.status_code
        if status == 403:
            return "refused: no permission for this page"
        if status not in (302, 404):
            return None
        match = request.resolver_match
        if match is None or not set(match.namespaces) & PATIENT_DATA_NAMESPACES:
            return None
        if status == 302 and not response.get("Location", "").startswith(reverse("admin:login")):
            return None
        if not request.user.is_authenticated:
            return None
        if status == 404:
            return "refused: not found (someone else's record, or none)"
        return "refused: a staff-only page"

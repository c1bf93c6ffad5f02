"""Audit for the admin pages of a patient's data (plans, check-ins, alerts, accounts)."""

from audit.models import Action
from audit.recorder import note


class AuditedAdminMixin:
    """Records every list, object page, history and deletion of this model by staff.

    Subclasses say whose data an object is with ``audit_patient_id(obj)``: an id or a subquery, so that working
    it out costs no query of its own (audit/recorder.py).
    """

    def audit_patient_id(self, obj):
        return None

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            url_name = request.resolver_match.url_name if request.resolver_match else ""
            if url_name.endswith("_delete"):
                action = Action.DELETE if request.method == "POST" else Action.VIEW
            else:
                action = Action.CHANGE if request.method == "POST" else Action.VIEW
            note(request, action, target=obj, patient_id=self.audit_patient_id(obj))
        return obj

    def changelist_view(self, request, extra_context=None):
        note(request, Action.VIEW, description=f"list of {self.model._meta.verbose_name_plural}")
        return super().changelist_view(request, extra_context)

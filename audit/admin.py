"""The audit log in the admin: superusers read it; nobody can add, change or delete an entry."""

from django.contrib import admin

from audit.models import AuditEvent
from clinic.admin_base import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_email", "action", "description", "patient_email", "ip_address", "status", "path"]
    list_filter = ["action", "at"]
    search_fields = ["actor_email", "patient_email", "description", "path", "ip_address"]
    date_hierarchy = "at"
    list_per_page = 100
    # The e-mail copies are shown, not the foreign keys: the list needs no join and no extra query per row.
    show_full_result_count = False
    fields = [
        "at", "actor", "actor_email", "action", "description", "object_type", "object_id", "patient",
        "patient_email", "ip_address", "method", "path", "status",
    ]  # fmt: skip
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        # Superusers only, whatever permissions a group was given: clinicians must not read who looked at what.
        return request.user.is_active and request.user.is_superuser

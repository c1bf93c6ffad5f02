"""Content governance: every version of a tip, phase or step is kept with who, when and what changed, and can be
restored with one click (django-simple-history keeps the versions)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

# Longer than any text the clinicians edit (a tip's body is the longest).
FULL_TEXT_CHARS = 20_000


class OneClickRevertAdmin(SimpleHistoryAdmin):
    """Adds a "Restore this version" button to each row of the history page (a POST with CSRF)."""

    # Fields a restore leaves as they are now (fixed once the item exists, as a protocol step's key).
    kept_on_restore = ()

    def restore_problems(self, restored):
        """Why ``restored`` (a version about to be restored) cannot be, beyond its own checks: [] when it can."""
        return []

    def restored(self, request, obj):
        """Called after ``obj`` was restored to an earlier version, to say what else that means."""

    def _url_name(self, suffix):
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{suffix}"

    def get_urls(self):
        revert = self.admin_site.admin_view(require_POST(self.revert_view))
        route = "<path:object_id>/history/<int:version_id>/revert/"
        return [path(route, revert, name=self._url_name("revert")), *super().get_urls()]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        match = request.resolver_match
        if match and match.url_name == self._url_name("simple_history"):
            # django-simple-history's page to revert to a version: every field it shows is the old version's, and
            # all of it is what is meant to be saved (not only what was changed on the page: nothing is).
            form = type(form.__name__, (form,), {"keeps_colleagues_changes": False})
        return form

    def get_historical_record_context_helper(self, request, historical_record):
        # The whole of each changed text, not simple-history's 100 characters with "[52 chars]" cut from the middle:
        # a reviewer judging an edit of a tip must read the wording it replaced.
        return HistoricalRecordContextHelper(
            self.model, historical_record, max_displayed_delta_change_chars=FULL_TEXT_CHARS
        )

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # As simple-history's own, but it calls select_related() with no names for a model without tracked foreign
        # keys (the disclaimer, the safety thresholds), which Django 6.1 deprecates and a later Django refuses.
        related = [field.name for field in history_manager.model.tracked_fields if isinstance(field, models.ForeignKey)]
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user", *related)

    def revert_view(self, request, object_id, version_id):
        current = self.get_queryset(request).filter(pk=object_id).first()
        if current is None:
            messages.error(request, "This item was deleted, so there is nothing to restore. Add it again instead.")
            return HttpResponseRedirect(reverse(f"admin:{self._url_name('changelist')}"))
        if not self.has_change_permission(request, current):
            raise PermissionDenied
        history_url = reverse(f"admin:{self._url_name('history')}", args=[object_id])
        version = get_object_or_404(
            self.model.history.model, pk=version_id, **{self.model._meta.pk.attname: current.pk}
        )
        restored = version.instance
        restored._state.adding = False  # it replaces the current row, so its own slug and position are no clash
        for name in self.kept_on_restore:
            setattr(restored, name, getattr(current, name))
        when = f"{timezone.localtime(version.history_date):%d %b %Y %H:%M}"  # the clinic's time, as History lists it
        try:
            restored.full_clean()
            if problems := self.restore_problems(restored):
                raise ValidationError(problems)
        except ValidationError as error:
            # e.g. a step's version that points to a tip deleted since, a phase's that would be out of order now.
            messages.error(request, f"The version of {when} cannot be restored: {' '.join(error.messages)}")
            return HttpResponseRedirect(history_url)
        restored._change_reason = f"Restored the version of {when}"
        restored.save()
        messages.success(request, f"Restored “{restored}” to the version of {when}.")
        self.restored(request, restored)
        return HttpResponseRedirect(history_url)

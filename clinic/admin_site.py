"""The clinic workspace's admin site: Django's, with one guard around every admin page, ours and the libraries'.

A clinician who edits an address by hand (``…/tip/abc/history/``, ``…/protocol/99999999999999999999/change/``,
``…/checkin/?date__year=99999999999999999999``) got a server error from views that hand what the address says to
the database or to ``datetime`` as it came. On the pages of a model with a whole-number key (every model of the
clinic's), an id that is not one names nothing: the page is a 404, and so is an action sent for rows that are not.
A date in the list's date drill-down that no calendar holds is treated as Django treats any other bad filter (the
list without it, "?e=1").
"""

import functools
import inspect

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

# The names the admin's URLs give an object's id (Django's object_id, our pk, simple-history's version).
ID_ARGUMENTS = ("object_id", "pk", "version_id", "history_id")
BIGGEST_ID = 2**63 - 1  # a bigint's largest value, on PostgreSQL and SQLite alike
ACTION_CHECKBOX_NAME = helpers.ACTION_CHECKBOX_NAME


def is_id(value):
    if isinstance(value, int):
        return 0 < value <= BIGGEST_ID
    return isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= BIGGEST_ID


def _has_whole_number_key(view):
    """Whether ``view`` is a page of a ModelAdmin whose model has a whole-number key (all of the clinic's; the task
    queue's results have UUIDs, which Django's own pages already check)."""
    model = getattr(getattr(inspect.unwrap(view), "__self__", None), "model", None)  # under require_POST, say
    if model is None:
        return False
    key = model._meta.pk.target_field if model._meta.pk.is_relation else model._meta.pk
    return isinstance(key, models.IntegerField)


def ids_checked(view):
    """``view``, answering 404 for an id in its address that is not a whole number a key can hold, and for an
    object that is not there (django-otp's device pages look theirs up with ``.get()``)."""
    check_ids = _has_whole_number_key(view)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if check_ids:
            # simple-history's pages take their ids as the regular expression's unnamed groups; a list's action
            # names its rows in the form.
            ids = [*args, *(kwargs[name] for name in ID_ARGUMENTS if name in kwargs)]
            if request.method == "POST":
                ids += request.POST.getlist(ACTION_CHECKBOX_NAME)
            if not all(map(is_id, ids)):
                raise Http404("No such record.")
        try:
            return view(request, *args, **kwargs)
        except ObjectDoesNotExist as missing:
            raise Http404("No such record.") from missing

    return wrapper


class ClinicAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        return super().admin_view(ids_checked(view), cacheable)


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.ClinicAdminSite"


class DrillDownChecked(ChangeList):
    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:  # Django catches a month 13 (ValueError), not a year of 20 digits
            raise IncorrectLookupParameters(error) from error


class DateDrillDown:
    """For a ModelAdmin with a ``date_hierarchy``: see ``DrillDownChecked``."""

    def get_changelist(self, request, **kwargs):
        return DrillDownChecked

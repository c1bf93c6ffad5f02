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
from django.contrib.admin.views.main import ERROR_FLAG
from django.db import models
from django.http import Http404, HttpResponseRedirect

# The names the admin's URLs give an object's id (Django's object_id, our pk, simple-history's version).
ID_ARGUMENTS = ("object_id", "pk", "version_id", "history_id")
BIGGEST_ID = 2**63 - 1  # a bigint's largest value, on PostgreSQL and SQLite alike
ACTION_CHECKBOX_NAME = helpers.ACTION_CHECKBOX_NAME
DATE_PARTS = ("__year", "__month", "__day")


def is_id(value):
    if isinstance(value, int):
        return 0 < value <= BIGGEST_ID
    return isinstance(value, str) and value.isascii() and value.isdigit() and 0 < int(value) <= BIGGEST_ID


def _model_of(view):
    """The model of the ModelAdmin whose page ``view`` is, or None (the site's own pages)."""
    # Under require_POST, say; but no further than the ModelAdmin's method, which Django's own decorators (the list's
    # csrf_protect_m) wrap in turn, down to a plain function that knows no model.
    bound = inspect.unwrap(view, stop=lambda function: hasattr(function, "__self__"))
    return getattr(getattr(bound, "__self__", None), "model", None)


def _has_whole_number_key(model):
    """Whether ``model`` (a ModelAdmin's, or None) has a whole-number key: all of the clinic's; the task queue's
    results have UUIDs, which Django's own pages already check."""
    if model is None:
        return False
    key = model._meta.pk.target_field if model._meta.pk.is_relation else model._meta.pk
    return isinstance(key, models.IntegerField)


def _beyond_the_calendar(key, value):
    """A list's date drill-down (``date__year=…``) with a part no calendar holds: Django turns a month 13 into
    "bad filter" but lets a year of 20 digits overflow ``datetime``."""
    return key.endswith(DATE_PARTS) and not (value.isascii() and value.isdigit() and len(value) <= 4)


def ids_checked(view):
    """``view``, answering 404 for an id in its address that is not a whole number a key can hold, and for an
    object that is not there (django-otp's device pages look theirs up with ``.get()``)."""
    model = _model_of(view)
    check_ids = _has_whole_number_key(model)
    # Only the page's own record not found (a library's ``.get()``), not any lookup that fails inside the view.
    model_missing = model.DoesNotExist if model is not None else ()

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
        if any(_beyond_the_calendar(key, value) for key, value in request.GET.items()):
            return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")  # the list without it, as Django does
        try:
            return view(request, *args, **kwargs)
        except model_missing as missing:
            raise Http404("No such record.") from missing

    return wrapper


class ClinicAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        return super().admin_view(ids_checked(view), cacheable)


class ClinicAdminConfig(AdminConfig):
    default_site = "clinic.admin_site.ClinicAdminSite"

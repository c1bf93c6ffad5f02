"""Who may open the patient's pages, and which plan they see: always their own."""

import functools

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_htmx.http import HttpResponseClientRefresh

from accounts.roles import Role, is_patient
from audit.recorder import refused
from recovery.models import RecoveryPlan


def patient_required(view):
    """Patients only: staff are sent to their own home. The view receives ``request.plan``: the patient's open
    plan, or None (``plan_required`` turns None into a friendly page)."""

    @functools.wraps(view)
    @never_cache
    @login_required
    def wrapper(request, *args, **kwargs):
        # One query on most requests: an open plan found through the Patient group proves the role as well, so the
        # groups are read only when there is no such plan (the benchmark's pages: docs/BENCHMARKS.md).
        request.plan = RecoveryPlan.objects.open_plan_of_member(request.user, Role.PATIENT)
        if request.plan is None and not is_patient(request.user):
            refused(request, "patients' pages are for patients")
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def plan_required(view):
    """Patients with an open plan; a patient without one is told, kindly, to ask reception."""

    @functools.wraps(view)
    @patient_required
    def wrapper(request, *args, **kwargs):
        if request.plan is None:
            if request.htmx:  # a tick after the plan was closed: reload, to show this page whole
                return HttpResponseClientRefresh()
            # A discharged patient is told the plan is complete, not that they have none yet.
            finished = RecoveryPlan.objects.filter(patient=request.user, status=RecoveryPlan.Status.COMPLETED)
            context = {"finished": finished.order_by("-race_date").first()}
            return render(request, "recovery/no_plan.html", context, status=200)
        return view(request, *args, **kwargs)

    return wrapper

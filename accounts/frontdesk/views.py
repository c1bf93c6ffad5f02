"""Reception's pages. Contact details and activation state only: nothing clinical is read or shown here."""

import datetime
import functools
import re
import secrets

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache

from accounts.frontdesk import intake
from accounts.frontdesk.forms import (
    TAKEN_EMAIL,
    EnrolForm,
    IntakeUploadForm,
    NewPlanForm,
    PatientDetailsForm,
    SearchForm,
    clinicians,
)
from accounts.frontdesk.search import SEARCH_RESULTS, search_patients
from accounts.frontdesk.services import (
    patient_deactivate,
    patient_details_change,
    patient_enrol,
    patient_invite,
    patient_plan_start,
    patient_reactivate,
    patients_enrol,
)
from accounts.frontdesk.welcome_sheet import sheet_context
from accounts.roles import is_reception
from audit.models import Action
from audit.recorder import note, refused
from clinic.post_only import post_only
from recovery.clock import clinic_today
from recovery.facts import facts_for_plans
from recovery.models import Protocol, RecoveryPlan, SafetyThresholds
from recovery.services import Refused
from recovery.summaries import inactive_q

User = get_user_model()

LIST_LENGTH = 25
INTAKE_SESSION_KEY = "frontdesk_intake"
GROUP_SESSION_KEY = "frontdesk_group"  # the patients of this receptionist's last group file, for their sheets
SHEETS_PER_PAGE = 50  # a print run: each sheet is a page of its own
LAST_RACE_DATE_KEY = "frontdesk_last_race_date"  # this receptionist's last enrolment's, for the next one
INTAKE_ENROL_SECONDS = 300  # longer than a file of 5,000 takes to enrol


def may_use_front_desk(user):
    """Reception, and superusers (who may do everything). Clinicians are not reception: least privilege."""
    return user.is_authenticated and user.is_active and (user.is_superuser or is_reception(user))


def reception_required(view):
    """Anonymous visitors go to the login page; anyone else without the right goes to their own home."""

    @functools.wraps(view)
    @never_cache
    @login_required
    def wrapper(request, *args, **kwargs):
        if not may_use_front_desk(request.user):
            refused(request, "the front desk is for reception")
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def _patient_or_404(pk):
    # Only patients: reception can never change a clinician's or an administrator's account.
    return get_object_or_404(User.objects.patients(), pk=pk)


def _open_plan(patient):
    return RecoveryPlan.objects.open().select_related("protocol", "clinician").filter(patient=patient).first()


# -- Home: search and the three lists ---------------------------------------------------------------------------


@reception_required
def home(request):
    today = clinic_today()
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = list(search_patients(query)) if query else None

    awaiting = User.objects.patients().awaiting_activation().order_by("invited_at", "pk")
    thresholds = SafetyThresholds.current()
    # "Inactive" (DESIGN.md): the same rule as the clinicians' list and the sweep's alerts (summaries.inactive_q);
    # only active plans, so paused ones are left out: nobody expects activity from them.
    inactive = RecoveryPlan.objects.filter(inactive_q(today, thresholds)).quietest_first().select_related("patient")
    recent = RecoveryPlan.objects.select_related("patient", "protocol").order_by("-created_at", "-pk")
    # Each list a page at a time: after a group intake hundreds may wait, and each needs a call or a resend.
    awaiting_page = _list_page(request, awaiting, "awaiting_page", "#awaiting-heading")
    inactive_page = _list_page(request, inactive, "inactive_page", "#inactive-heading")
    context = {
        "form": form,
        "query": query,
        "results": results,
        "search_limit": SEARCH_RESULTS,  # a full page of results says "or more": the rest are not shown
        "awaiting": awaiting_page,
        "inactive": inactive_page,
        "inactive_days": thresholds.inactive_after_days,
        "recent": list(recent[:10]),
        "today": today,
        "now": timezone.now(),
    }
    # The lists and search results show patients' names and contact details.
    note(request, Action.VIEW, description="front desk: search and lists")
    return render(request, "frontdesk/home.html", context)


def _list_page(request, queryset, parameter, anchor="", per_page=LIST_LENGTH):
    """One page of a front desk list, with the addresses of the pages before and after it (the search and the
    other list's page kept), back at the list's own heading."""
    page = Paginator(queryset, per_page).get_page(request.GET.get(parameter))

    def address(number):
        query = request.GET.copy()
        query[parameter] = number
        return f"?{query.urlencode()}{anchor}"

    page.previous_url = address(page.previous_page_number()) if page.has_previous() else None
    page.next_url = address(page.next_page_number()) if page.has_next() else None
    return page


# -- Enrol one patient --------------------------------------------------------------------------------------------


@reception_required
def enrol(request):
    form = EnrolForm(request.POST or None, last_race_date=_last_race_date(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = patient_enrol(
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                race_date=data["race_date"],
                protocol=data["protocol"],
                clinician=data["clinician"],
            )
        except IntegrityError:
            # Someone enrolled the same address a moment ago: the database's unique constraint said no.
            form.add_error("email", TAKEN_EMAIL)
        else:
            note(request, Action.CREATE, target=patient, patient=patient, description="enrolled")
            _remember_race_date(request, data["race_date"])
            messages.success(
                request,
                f"{patient.get_full_name()} is enrolled, from race day {data['race_date']:%-d %b %Y}. You can print "
                "their welcome sheet now.",
            )
            # The queue at the desk: the page opens with the keyboard on "Print the welcome sheet".
            return redirect(reverse("frontdesk:patient", args=[patient.pk]) + "?enrolled=1")
    return render(request, "frontdesk/enrol.html", {"form": form})


def _last_race_date(request):
    """The race date this receptionist last gave a plan, for the next form to start with; None if none."""
    try:
        return datetime.date.fromisoformat(request.session.get(LAST_RACE_DATE_KEY, ""))
    except (TypeError, ValueError):
        return None


def _remember_race_date(request, race_date):
    request.session[LAST_RACE_DATE_KEY] = race_date.isoformat()


# -- One patient: details, invitation, switch off and on ----------------------------------------------------------


@reception_required
def patient(request, pk):
    patient = _patient_or_404(pk)
    plan = _open_plan(patient)
    action = Action.CHANGE if request.method == "POST" else Action.VIEW
    note(request, action, target=patient, patient=patient, description="contact details")
    form = PatientDetailsForm(request.POST or None, instance=patient, plan=plan)
    if request.method == "POST":
        old_race_date = plan.race_date if plan else None
        try:
            # One transaction from the check to the write: the form locks the rows it compares with what the page
            # showed (KeepsWhatItShowed), and the lock must hold until the change is written.
            with transaction.atomic():
                data = {name: form.cleaned_data[name] for name in form.changed_data} if form.is_valid() else None
                if data is not None:  # what this page changed, no more
                    reinvited = patient_details_change(
                        patient=patient,
                        plan=plan,
                        race_date=data.get("race_date"),
                        **{name: data[name] for name in PatientDetailsForm.Meta.fields if name in data},
                    )
        except IntegrityError:
            patient.refresh_from_db()
            form.add_error("email", TAKEN_EMAIL)
        else:
            if data is not None:
                if "race_date" in data and old_race_date is not None and _last_race_date(request) == old_race_date:
                    # A wrong race date typed for the last patient must not fill in the next one's form.
                    _remember_race_date(request, data["race_date"])
                messages.success(request, "The details are saved.")
                if reinvited:
                    messages.info(
                        request,
                        "The e-mail address changed, so a new invitation is on its way to it. A welcome sheet "
                        "printed before carries the old link: print it again.",
                    )
                return redirect("frontdesk:patient", pk=patient.pk)
    return render(
        request,
        "frontdesk/patient.html",
        {
            "patient": patient,
            "plan": plan,
            "form": form,
            "now": timezone.now(),
            "just_enrolled": request.method == "GET" and request.GET.get("enrolled") == "1",
        },
    )


@post_only("frontdesk:patient", keep=("pk",))
@reception_required
def invite(request, pk):
    patient = _patient_or_404(pk)
    note(request, Action.CHANGE, target=patient, patient=patient, description="invitation")
    if not patient.is_active:
        messages.error(request, "This account is switched off. Switch it back on before sending an invitation.")
    elif patient.is_activated:
        messages.info(request, "This patient has already chosen a password: they log in with their e-mail address.")
    else:
        patient_invite(patient=patient)
        patient.refresh_from_db(fields=["invitation_sent_at", "invitation_failed_at"])
        if patient.invitation_failed_at:
            messages.error(request, "The new invitation could not be e-mailed. Print the welcome sheet instead.")
        else:
            messages.success(request, f"A new invitation is on its way to {patient.email}. Older links no longer work.")
    return redirect("frontdesk:patient", pk=patient.pk)


@post_only("frontdesk:patient", keep=("pk",))
@reception_required
def deactivate(request, pk):
    patient = _patient_or_404(pk)
    patient_deactivate(patient=patient)
    note(request, Action.CHANGE, target=patient, patient=patient, description="switched off, sessions ended")
    messages.success(request, f"{patient} is switched off and logged out everywhere. Their plan and history are kept.")
    return redirect("frontdesk:patient", pk=patient.pk)


@post_only("frontdesk:patient", keep=("pk",))
@reception_required
def reactivate(request, pk):
    patient = _patient_or_404(pk)
    invited = patient_reactivate(patient=patient)
    note(request, Action.CHANGE, target=patient, patient=patient, description="switched back on")
    messages.success(request, f"{patient} is switched back on.")
    if invited:
        messages.info(request, f"A new invitation is on its way to {patient.email}: their old links no longer work.")
    return redirect("frontdesk:patient", pk=patient.pk)


@reception_required
def plan_start(request, pk):
    """A returning runner's next plan: the patient page's "Start a new plan" once their last one is complete."""
    patient = _patient_or_404(pk)
    last_plan = RecoveryPlan.objects.filter(patient=patient).order_by("-created_at", "-pk").first()
    form = NewPlanForm(request.POST or None, last_plan=last_plan, last_race_date=_last_race_date(request))
    if request.method == "GET":
        note(request, Action.VIEW, target=patient, patient=patient, description="new plan form")
    elif form.is_valid():
        try:
            plan = patient_plan_start(patient=patient, **form.cleaned_data)
        except Refused as refusal:
            messages.error(request, str(refusal))
            return redirect("frontdesk:patient", pk=patient.pk)
        note(request, Action.CREATE, target=patient, patient=patient, description="new plan")
        _remember_race_date(request, plan.race_date)
        messages.success(
            request,
            f"{patient.get_full_name()} has a new plan from race day {plan.race_date:%-d %b %Y}. "
            "You can print their welcome sheet now.",
        )
        return redirect(reverse("frontdesk:patient", args=[patient.pk]) + "?enrolled=1")
    context = {
        "patient": patient,
        "form": form,
        # Plans start only when none is open, so an open plan is always the latest.
        "open_plan": last_plan if last_plan and last_plan.status in RecoveryPlan.OPEN_STATUSES else None,
    }
    return render(request, "frontdesk/plan_start.html", context)


# -- The welcome sheet -------------------------------------------------------------------------------------------


@reception_required
def welcome_sheet(request, pk):
    patient = _patient_or_404(pk)
    plan = _open_plan(patient)
    note(request, Action.VIEW, target=patient, patient=patient, description="welcome sheet")
    returning = plan is not None and RecoveryPlan.objects.filter(patient=patient).exclude(pk=plan.pk).exists()
    context = {"patient": patient, "sheet": sheet_context(patient, plan, returning=returning)}
    return render(request, "frontdesk/welcome_sheet.html", context)


# -- Group intake -----------------------------------------------------------------------------------------------


def _taken_emails(rows):
    emails = {row.email.lower() for row in rows if row.email}
    if not emails:
        return set()
    return set(
        User.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", flat=True)
    )


def _checked(rows):
    return intake.check_rows(rows, today=clinic_today(), taken_emails=_taken_emails(rows))


@reception_required
def intake_upload(request):
    form = IntakeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > intake.MAX_BYTES:
                raise intake.IntakeFileError(
                    f"This file is too big: the limit is {intake.MAX_BYTES // 1_000_000} MB "
                    f"({intake.MAX_ROWS:,} patients). Split it into smaller files."
                )
            rows = _checked(intake.read_rows(upload.read(intake.MAX_BYTES + 1)))
        except intake.IntakeFileError as error:
            form.add_error("file", str(error))
        else:
            intake_id = secrets.token_urlsafe(16)
            request.session[INTAKE_SESSION_KEY] = {
                "id": intake_id,
                "file_name": upload.name[:100],
                "protocol": form.cleaned_data["protocol"].pk,
                "clinician": form.cleaned_data["clinician"].pk if form.cleaned_data["clinician"] else None,
                "rows": [row.as_stored() for row in rows],
            }
            return _preview(request, rows, intake_id, form.cleaned_data["protocol"], form.cleaned_data["clinician"])
    return render(request, "frontdesk/intake_upload.html", {"form": form, "max_rows": intake.MAX_ROWS})


def _preview(request, rows, intake_id, protocol, clinician, *, status=200):
    problem_rows = [row for row in rows if row.problems]
    # A line whose address is a patient's, usually a runner back after another race: their page starts a new plan.
    # (Staff addresses are never named to reception.)
    emails = {row.email for row in problem_rows if row.email}
    patients = dict(
        User.objects.patients().annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
        .values_list("email_lower", "pk")
    ) if emails else {}  # fmt: skip
    for row in problem_rows:
        row.patient_pk = patients.get(row.email)
    context = {
        "rows": rows,
        "problem_rows": problem_rows,
        "ready_count": len(rows) - len(problem_rows),
        "warning_rows": [row for row in rows if row.warnings and not row.problems],
        "intake_id": intake_id,
        "protocol": protocol,
        "clinician": clinician,
    }
    return render(request, "frontdesk/intake_preview.html", context, status=status)


@post_only("frontdesk:intake")
@reception_required
def intake_confirm(request):
    """Enrol the previewed rows, checked again (addresses may have been taken since): all of them, or none.

    An upload is enrolled once: a second confirmation, sent while the first enrols or just after (a double click;
    its session may still hold the upload), would find every address taken and say "nobody has been enrolled" of
    a file that was. The mark stays for a while after an enrolment, and goes when nothing was enrolled."""
    stored = request.session.get(INTAKE_SESSION_KEY)
    if not stored or request.POST.get("intake") != stored.get("id"):
        messages.error(request, "That upload is no longer waiting. Please upload the file again.")
        return redirect("frontdesk:intake")
    enrolling = f"frontdesk:intake:{stored['id']}"
    if not cache.add(enrolling, True, timeout=INTAKE_ENROL_SECONDS):
        messages.info(request, "This file is being enrolled, or just was: its patients are on the front desk.")
        return redirect("frontdesk:home")
    response = _intake_enrol(request, stored)
    if not isinstance(response, HttpResponseRedirect):  # the preview again: nothing was enrolled
        cache.delete(enrolling)
    return response


def _intake_enrol(request, stored):
    protocol = Protocol.objects.filter(pk=stored.get("protocol")).first()
    clinician = clinicians().filter(pk=stored["clinician"]).first() if stored.get("clinician") else None
    try:
        rows = _checked([intake.IntakeRow.from_stored(values) for values in stored["rows"]])
    except (KeyError, TypeError, ValueError):
        rows = None
    if rows is None or protocol is None or (stored.get("clinician") and clinician is None):
        del request.session[INTAKE_SESSION_KEY]
        messages.error(request, "That upload could not be read back, or its plan changed. Please upload it again.")
        return redirect("frontdesk:intake")
    # "Enrol the ready lines now": the lines with problems wait to be corrected and uploaded again.
    ready_only = request.POST.get("ready_only") == "1"
    ready = [row for row in rows if not row.problems]
    to_fix = [row for row in rows if row.problems]
    if to_fix and not (ready_only and ready):
        return _preview(request, rows, stored["id"], protocol, clinician)
    try:
        patients = patients_enrol(rows=ready, protocol=protocol, clinician=clinician)
    except IntegrityError:
        # An address was taken between the check and the insert: nothing was enrolled.
        return _preview(request, _checked(rows), stored["id"], protocol, clinician)
    note(request, Action.CREATE, description=f"enrolled {len(patients)} patient(s) from {stored['file_name']}")
    request.session[GROUP_SESSION_KEY] = {"ids": [patient.pk for patient in patients], "file_name": stored["file_name"]}
    enrolled = "1 patient is" if len(patients) == 1 else f"{len(patients):,} patients are"
    invitations = "Their invitation is" if len(patients) == 1 else "Their invitations are"
    # Read out and focused on the page that follows (templates/base.html), as is the warning below.
    messages.success(
        request,
        format_html(
            '{} enrolled. {} on their way. <a href="{}">Print {}</a>.',
            enrolled,
            invitations,
            reverse("frontdesk:intake_sheets"),
            "their welcome sheet" if len(patients) == 1 else "their welcome sheets",
        ),
        extra_tags="announce",
    )
    if not to_fix:
        del request.session[INTAKE_SESSION_KEY]
        return redirect("frontdesk:home")
    # The lines to fix stay in the session, for their download below.
    request.session[INTAKE_SESSION_KEY] = {**stored, "rows": [row.as_stored() for row in to_fix]}
    messages.warning(
        request,
        format_html(
            '{} not enrolled yet. <a href="{}">Download {}</a> (a CSV file with what is wrong on each), correct '
            "{} and upload that file here.",
            "1 line with a problem is" if len(to_fix) == 1 else f"{len(to_fix):,} lines with problems are",
            reverse("frontdesk:intake_to_fix"),
            "it" if len(to_fix) == 1 else "them",
            "it" if len(to_fix) == 1 else "them",
        ),
        extra_tags="announce",
    )
    return redirect("frontdesk:intake")


@reception_required
def intake_sheets(request):
    """The welcome sheets of the group file this receptionist enrolled last, to print in one go (runners who came
    to the desk together), 50 to a page."""
    group = request.session.get(GROUP_SESSION_KEY) or {}
    ids = [pk for pk in group.get("ids", []) if isinstance(pk, int)]
    if not ids:
        messages.info(request, "No group file has been enrolled here yet: its patients' sheets print from this link.")
        return redirect("frontdesk:intake")
    people = User.objects.patients().filter(pk__in=ids).order_by("last_name", "first_name", "pk")
    page = _list_page(request, people, "page", per_page=SHEETS_PER_PAGE)
    plans = {
        plan.patient_id: plan
        for plan in RecoveryPlan.objects.open().select_related("protocol").filter(patient__in=list(page))
    }
    today = clinic_today()
    facts = facts_for_plans(plans.values(), today, today + datetime.timedelta(days=6))  # for the steps: 3 queries
    sheets = []
    for patient in page:
        plan = plans.get(patient.pk)
        note(request, Action.VIEW, target=patient, patient=patient, description="welcome sheet (group)")
        sheets.append(sheet_context(patient, plan, facts=facts.get(plan.pk) if plan else None))
    context = {"sheets": sheets, "page": page, "file_name": group.get("file_name", "")}
    return render(request, "frontdesk/welcome_sheets.html", context)


@reception_required
def intake_to_fix(request):
    """The waiting upload's lines with problems, as a CSV file to correct and upload again: the same columns, and
    one more saying what is wrong (ignored when it comes back)."""
    stored = request.session.get(INTAKE_SESSION_KEY)
    try:
        rows = _checked([intake.IntakeRow.from_stored(values) for values in stored["rows"]])
    except (KeyError, TypeError, ValueError):
        messages.error(request, "No upload is waiting. Please upload the file again.")
        return redirect("frontdesk:intake")
    note(request, Action.VIEW, description=f"lines to fix from {stored.get('file_name', 'an upload')}")
    stem = re.sub(r"[^\w.-]+", "-", str(stored.get("file_name", "intake"))).removesuffix(".csv") or "intake"
    response = HttpResponse(intake.to_fix_csv(rows), content_type="text/csv; charset=utf-8")
    # RFC 6266's filename* as well: a file named in another script ("東京") keeps its name.
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{stem}-to-fix.csv")
    return response

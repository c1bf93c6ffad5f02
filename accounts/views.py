import logging

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import two_factor
from accounts.forms import (
    EmailAuthenticationForm,
    PlainPasswordChangeForm,
    PlainPasswordResetForm,
    PlainSetPasswordForm,
)
from accounts.password_notice import password_changed_notify
from accounts.password_reset import password_reset_send
from accounts.roles import is_clinician, is_patient, is_reception

logger = logging.getLogger(__name__)


@never_cache
def home(request):
    """Send each person to their own place."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    if is_clinician(user):
        return redirect("admin:index")
    if is_patient(user):
        return redirect("recovery:today")
    if is_reception(user):
        return redirect("frontdesk:home")
    return render(request, "accounts/no_role.html")


@require_POST
@never_cache
def still_here(request):
    """Someone typing in a staff form is still there though the page sends nothing: its script says so every few
    minutes (static/js/still-here.js), and this request, like any, moves the session's last-seen time on
    (``SessionTimeoutMiddleware``), so a long tip is not lost to the 30-minute sign-out. Changes nothing else."""
    return HttpResponse(status=204 if request.user.is_authenticated else 401)


@never_cache
def healthz(request):
    """One trivial query: 200 when the database answers, 503 (within the pool's 2-second timeout) when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("healthz: the database did not answer", exc_info=True)
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


class LoginView(auth_views.LoginView):
    authentication_form = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        # Someone with two-factor sign-in on is not signed in yet: the code comes first (accounts/two_factor.py).
        user = form.get_user()
        if two_factor.confirmed_device(user) is not None:
            return two_factor.begin(self.request, user, self.get_success_url())
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's). Ends this session and, by moving the person's session epoch on, every other one."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            get_user_model().objects.filter(pk=request.user.pk).update(session_epoch=F("session_epoch") + 1)
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have logged out.")  # kept in a cookie: the session is gone
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = PlainPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed_notify(form.user)  # the owner hears of it, should it not have been them
        return response

    def get_context_data(self, **kwargs):
        # A patient comes here from Account and keeps the patients' menu (Today, Check-in…) to go back.
        layout = "recovery/patient_base.html" if is_patient(self.request.user) else "base.html"
        return {**super().get_context_data(**kwargs), "layout": layout}


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PlainPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Queued whatever the address: the answer must not take longer for one that has an account.
        password_reset_send.enqueue(form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = PlainSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed_notify(form.user)  # whoever used the link, the owner hears of it
        return response

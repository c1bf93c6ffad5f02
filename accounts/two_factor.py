"""Two-factor sign-in with an authenticator app (TOTP, django-otp).

- Any staff member (reception, clinicians, administrators) can turn it on at /accounts/two-factor/: scan the QR
  code, type the six-digit code. From then on, signing in asks for a code after the password.
- Superusers must have it in production (``TWO_FACTOR_REQUIRED_FOR_SUPERUSERS``): until their session is verified,
  every page sends them to /accounts/two-factor/ (accounts/middleware.py).
- The admin's own login page is replaced by a redirect to the portal's, so the code cannot be skipped there.

A lost phone: an administrator deletes the person's device in the admin (Django OTP › TOTP devices).
"""

import time
from base64 import b32encode

import segno
from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.forms import is_own_password
from accounts.security import is_staff_member
from audit.models import Action
from audit.recorder import note

PENDING_KEY = "_two_factor_pending"
NEW_KEY = "_two_factor_new_key"  # the key of a device being set up, until its first code confirms it
# How long the code step waits after a correct password before the password must be typed again.
PENDING_SECONDS = 5 * 60
DEVICE_NAME = "Authenticator app"


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "pattern": "[0-9 ]*"}
        ),
        error_messages={"required": "Type the six-digit code your app shows now."},
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("The code is made of digits only.")
        return token


class SetupForm(TokenForm):
    """Turning it on asks for the password too: a session left open must not bind a stranger's phone to the
    account (its owner could no longer sign in, the stranger could)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": "Type your password, to show this is your account."},
    )
    field_order = ["password", "token"]

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        self.fields["token"].widget.attrs.pop("autofocus", None)

    @sensitive_variables("password")
    def clean_password(self):
        password = self.cleaned_data["password"]
        if not is_own_password(self.request, self.request.user, password):
            raise forms.ValidationError("That is not your password. Type the password you sign in with.")
        return password


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _safe_next(request, url):
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def _check(device, token):
    """Verify ``token`` on ``device``, with django-otp's throttling (each wrong code doubles the wait).

    Returns None when the code is right, or a message saying why not.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, details = device.verify_is_allowed()
        if not allowed:
            until = (details or {}).get("locked_until")
            if until is not None:
                seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
                wait = "a second" if seconds == 1 else f"{seconds} seconds"
                return f"Too many wrong codes. Wait {wait}, then type the code your app shows then."
            return "Too many wrong codes. Wait a moment, then type the code your app shows then."
        if device.verify_token(token):
            return None
    return "That code is not right, or it has expired. Type the code your app shows now."


# -- The code step of signing in ----------------------------------------------------------------------------------


def begin(request, user, next_url):
    """After a correct password for someone with a device: remember who, and ask for the code."""
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": int(time.time()),
    }
    return HttpResponseRedirect(reverse("accounts:two_factor_verify"))


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = auth.get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@login_not_required
@never_cache
@sensitive_post_parameters("token")
def verify(request):
    """Second step of signing in: the code from the app. Nobody is signed in until it is right."""
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, "Please sign in again.")
        return redirect("accounts:login")
    device = confirmed_device(user)
    if device is None:  # removed by an administrator meanwhile: the password alone signs in, as for anyone else
        request.session.pop(PENDING_KEY, None)
        auth.login(request, user, backend=pending["backend"])
        return HttpResponseRedirect(_safe_next(request, pending["next"]))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        problem = _check(device, form.cleaned_data["token"])
        if problem is None:
            del request.session[PENDING_KEY]
            user.otp_device = device  # django-otp keeps it in the session when login() announces the sign-in
            auth.login(request, user, backend=pending["backend"])
            return HttpResponseRedirect(_safe_next(request, pending["next"]))
        note(request, Action.LOGIN_FAILED, user=user, description="wrong two-factor code")
        form.add_error("token", problem)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "email": user.email})


# -- Turning it on ----------------------------------------------------------------------------------------------


def _qr_svg(device):
    qr = segno.make(device.config_url, error="m")
    return mark_safe(qr.svg_inline(scale=4, border=4, svgclass="qr-code", lineclass=None, omitsize=True))


def _secret_words(device):
    """The key as the app would type it, in groups of four, for those who cannot scan."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@login_required
@never_cache
@sensitive_post_parameters("token", "password")
def setup(request):
    """Staff turn on two-factor sign-in here; a superuser whose session is not verified yet verifies it here."""
    user = request.user
    if not is_staff_member(user):
        return redirect("home")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    device = confirmed_device(user)
    verified = user.is_verified()
    if device is not None and verified:
        return render(request, "accounts/two_factor.html", {"state": "on", "device": device})
    if device is None:
        # The new key waits in the session, so the QR code stays the same on reload and opening the page writes
        # nothing; the device is saved once a correct password comes with a code.
        key = request.session.setdefault(NEW_KEY, random_hex(20))
        device = TOTPDevice(user=user, name=DEVICE_NAME, key=key, confirmed=False)
        form = SetupForm(request.POST or None, request=request)
    else:
        form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.pk is None:  # the same row on each try, so its throttling of wrong codes holds
            device, _ = TOTPDevice.objects.get_or_create(
                user=user, key=device.key, confirmed=False, defaults={"name": DEVICE_NAME}
            )
        problem = _check(device, form.cleaned_data["token"])
        if problem is None:
            if not device.confirmed:
                TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
                device.confirmed = True
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                request.session.pop(NEW_KEY, None)
                messages.success(request, "Two-factor sign-in is on. From now on, signing in asks for a code.")
            else:
                messages.success(request, "Thank you: this session is verified.")
            # A new session id for the raised privilege, then the device in it.
            request.session.cycle_key()
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request, next_url))
        note(request, Action.LOGIN_FAILED, user=user, description="wrong two-factor code")
        form.add_error("token", problem)
    context = {
        "state": "verify" if device.confirmed else "setup",
        "form": form,
        "next": next_url,
        "required": user.is_superuser and settings.TWO_FACTOR_REQUIRED_FOR_SUPERUSERS,
    }
    if not device.confirmed:
        context.update(qr_svg=_qr_svg(device), secret=_secret_words(device), issuer=settings.OTP_TOTP_ISSUER)
    return render(request, "accounts/two_factor.html", context)


@login_not_required
def admin_login(request):
    """The admin's login page, replaced: everyone signs in through the portal's login (and its code step)."""
    next_url = request.GET.get("next", "")
    if request.user.is_authenticated:
        # Signed in without the right to the admin page asked for: back to their own place (audited as refused).
        if request.user.is_staff:
            return HttpResponseRedirect(_safe_next(request, next_url) if next_url else reverse("admin:index"))
        return redirect("home")
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return HttpResponseRedirect(reverse("accounts:login") + query)

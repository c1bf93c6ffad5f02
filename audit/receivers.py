"""Sign-ins, failed sign-ins and sign-outs, from Django's auth signals (connected in AuditConfig.ready)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import Action
from audit.recorder import note


@receiver(user_logged_in, dispatch_uid="audit.signed_in")
def signed_in(sender, request, user, **kwargs):
    note(request, Action.LOGIN, user=user, description="signed in")


@receiver(user_login_failed, dispatch_uid="audit.sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    typed = str((credentials or {}).get("username") or "").strip().lower()
    # Only what looks like an address is kept: a password typed into the wrong box must not reach the log.
    email = typed if "@" in typed and " " not in typed else ""
    locked = getattr(request, "axes_locked_out", False)
    description = "locked out after repeated failures" if locked else "wrong e-mail address or password"
    note(request, Action.LOGIN_FAILED, actor_email=email, description=description)


@receiver(user_logged_out, dispatch_uid="audit.signed_out")
def signed_out(sender, request, user, **kwargs):
    timed_out = getattr(request, "signed_out_by_timeout", False)
    note(request, Action.LOGOUT, user=user, description="signed out after inactivity" if timed_out else "signed out")

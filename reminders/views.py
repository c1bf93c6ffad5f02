"""The patient's reminder settings (/account/reminders/) and the unsubscribe link of every reminder."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from recovery.views.access import patient_required
from reminders.forms import ReminderSettingsForm
from reminders.services import reminder_settings_for, reminder_settings_save, reminders_unsubscribe
from reminders.tokens import user_for_token


@patient_required
def reminder_settings(request):
    form = ReminderSettingsForm(request.POST or None, instance=reminder_settings_for(request.user))
    if request.method == "POST" and form.is_valid():
        saved = reminder_settings_save(settings=form.save(commit=False))
        # Read out and focused (templates/base.html): the page comes back at its top.
        if saved.enabled:
            messages.success(request, "Your reminders are saved.", extra_tags="announce")
        else:
            messages.success(
                request, "Your reminders are off. You can turn them on here at any time.", extra_tags="announce"
            )
        return redirect("reminders:settings")
    return render(request, "reminders/settings.html", {"form": form, "time_zone": settings.TIME_ZONE})


def _masked(email):
    """a•••@example.com: enough for the owner to recognise, little for anyone the e-mail was forwarded to."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


# CSRF protection is off for this one view, on purpose: RFC 8058's one-click unsubscribe has the mail client POST
# "List-Unsubscribe=One-Click" to the link, without the portal's cookie or CSRF token, and without a login. The
# signed token in the URL is the proof that the request comes from the e-mail (a forged request cannot make one),
# and the worst a forged POST could do is turn one person's reminders off. A GET (link checkers and mail
# scanners open links) only shows the confirmation page and never changes anything.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])  # HEAD: mail scanners check a link first
def unsubscribe(request, token):
    user = user_for_token(token)
    if user is None:
        return render(request, "reminders/unsubscribe_invalid.html", status=400)
    context = {"email": _masked(user.email)}
    if request.method == "POST":
        reminders_unsubscribe(user=user)
        return render(request, "reminders/unsubscribe_done.html", context)
    return render(request, "reminders/unsubscribe_confirm.html", context)

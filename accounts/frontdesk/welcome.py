"""The patient's side of an invitation: choose a password, accept the privacy notice, and start.

Django's PasswordResetConfirmView does the careful part: it checks the token, moves it into the session and
redirects to a URL without it (so it never leaks in a Referer header), and logs the patient in afterwards.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.cache import cache_control

from accounts.frontdesk.forms import InvitationAcceptForm
from accounts.frontdesk.invitations import invitation_tokens


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    form_class = InvitationAcceptForm
    token_generator = invitation_tokens
    template_name = "accounts/welcome.html"
    post_reset_login = True
    post_reset_login_backend = "accounts.backends.EmailBackend"
    success_url = reverse_lazy("recovery:today")

    def get_user(self, uidb64):
        # A switched-off account's link is as dead as an expired one.
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not context["validlink"]:
            # Patients tap the e-mail's link again weeks later: a link used to choose the password is no reason to
            # call reception. (Only someone holding the link learns that its account is set up.)
            context["already_set_up"] = self.user is not None and self.user.is_activated
        return context


@login_not_required
@cache_control(max_age=3600, public=True)
def privacy_notice(request):
    return render(request, "accounts/privacy.html")

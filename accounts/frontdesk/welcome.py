"""The patient's side of an invitation: choose a password, accept the privacy notice, and start.

Django's PasswordResetConfirmView does the careful part: it checks the token, moves it into the session and
redirects to a URL without it (so it never leaks in a Referer header), and logs the patient in afterwards.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.urls import reverse_lazy

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
        # Patients tap the e-mail's link again weeks later. Signed in as its patient, the link has done its job;
        # anyone else gets the same page for every dead link (used, old, replaced or made up), with Log in first,
        # since a link whose token cannot be checked any more must not tell which accounts are set up.
        context["already_set_up"] = (
            not context["validlink"] and self.user is not None and self.request.user.pk == self.user.pk
        )
        return context


@login_not_required
def privacy_notice(request):
    # Not cached, like every page (NoStoreMiddleware): each copy holds a CSRF token (the page's htmx headers), and
    # one kept by a shared cache would hand the same token to every visitor (a login CSRF).
    return render(request, "accounts/privacy.html")

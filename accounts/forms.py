from django import forms
from django.contrib import auth
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.views.decorators.debug import sensitive_variables

from clinic.forms import EmailAddressField, FocusFirstProblem


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, asking for an e-mail address and saying plainly when sign-in fails.

    The message is the same whether or not the address has an account, so it reveals nothing.
    """

    username = EmailAddressField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email", "inputmode": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match our records. Check them and try again.",
        "inactive": "This account is switched off. Please call the clinic.",
    }


class PasswordTypedTwice:
    """A new password's second box in plain words ("Type it again"), not Django's "New password confirmation":
    the invitation's page and the password change ask it alike."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password2"].label = "Type it again"
        self.fields["new_password2"].help_text = "The same password once more, to be sure it is what you meant."


WRONG_PASSWORDS_KEY = "_wrong_passwords"  # typed in this session to change the password or turn on two-factor


def is_own_password(request, user, password):
    """Whether ``password`` is the signed-in ``user``'s. A wrong one is sent through a sign-in, so it counts toward
    the lockout (django-axes): a session left open cannot be used to guess the password, or to take over the
    account, at leisure, and the fifth wrong one signs the session out (accounts.security.lockout_response). The
    right one is taken at once: a stranger's five wrong guesses at the login page must not sign its owner out."""
    if user.check_password(password):
        request.session.pop(WRONG_PASSWORDS_KEY, None)
        return True
    # Counted for this session too: only its own wrong guesses sign it out, not a stranger's at the login page.
    request.session[WRONG_PASSWORDS_KEY] = request.session.get(WRONG_PASSWORDS_KEY, 0) + 1
    auth.authenticate(request, username=user.get_username(), password=password)
    return False


class PlainPasswordChangeForm(FocusFirstProblem, PasswordTypedTwice, PasswordChangeForm):
    """Django's form in the invitation page's words; the password now is checked as a sign-in checks it."""

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Your password now"
        self.fields["new_password1"].label = "New password"

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not is_own_password(self.request, self.user, old_password):
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PlainPasswordResetForm(FocusFirstProblem, PasswordResetForm):
    """Django's form, in plain words, taking an address as its owner types it (a paste's invisible characters gone)."""

    email = EmailAddressField(
        label="Your e-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email", "autofocus": True}),
        error_messages={
            "required": "Enter the e-mail address you log in with.",
            "invalid": "This is not an e-mail address. Check it for typing mistakes, e.g. name@example.com.",
            "max_length": "This is longer than any e-mail address we keep (254 characters at most).",
        },
    )


class PlainSetPasswordForm(FocusFirstProblem, PasswordTypedTwice, SetPasswordForm):
    """Choosing a new password from a reset link: the invitation page's words, the cursor on the field to fix."""

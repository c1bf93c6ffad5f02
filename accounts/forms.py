from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from clinic.forms import FocusFirstProblem


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form, asking for an e-mail address and saying plainly when sign-in fails.

    The message is the same whether or not the address has an account, so it reveals nothing.
    """

    username = forms.EmailField(
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


class PlainPasswordChangeForm(FocusFirstProblem, PasswordTypedTwice, PasswordChangeForm):
    """Django's form in the invitation page's words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Your password now"
        self.fields["new_password1"].label = "New password"

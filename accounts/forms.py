from django import forms
from django.contrib.auth.forms import AuthenticationForm


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

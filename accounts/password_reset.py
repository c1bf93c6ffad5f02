"""The password reset e-mail leaves through the task queue, for an unknown address as for a known one.

Sent within the request (Django's way), the wait on the mail server told anyone timing the form which addresses
have an account here, and being a patient of a sports injury clinic is health data. Now every request does the
same work, queueing a task; the task looks the address up and sends the e-mail, or does nothing.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.tasks import task

EMAIL_TEMPLATES = {
    "subject_template_name": "accounts/email/password_reset_subject.txt",
    "email_template_name": "accounts/email/password_reset.txt",
}


@task
def password_reset_send(email):
    """E-mail a reset link to each active account with a password at ``email`` (none: nothing is sent)."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            extra_email_context={"site_url": settings.SITE_URL},  # the link in the e-mail is built on it
            **EMAIL_TEMPLATES,
        )

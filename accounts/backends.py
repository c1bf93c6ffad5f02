from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's ModelBackend; the user manager's natural key makes the e-mail match ignore case."""

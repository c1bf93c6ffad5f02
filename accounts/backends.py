from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's ModelBackend; the user manager's natural key makes the e-mail match ignore case."""

    def get_user(self, user_id):
        # ModelBackend.get_user, with the user manager's hand-written lookup (asked on every signed-in request).
        user = get_user_model()._default_manager.signed_in(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

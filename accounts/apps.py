from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        # Stamps each new session as staff or patient, with its start time, for the session timeouts.
        from accounts import security  # noqa: F401

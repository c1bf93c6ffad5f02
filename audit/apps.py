from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Sign-ins, failed sign-ins and sign-outs are announced by Django's auth signals: the one place they are
        # all seen, whichever view (login, two-factor step, invitation, admin) did the signing in.
        from audit import receivers  # noqa: F401

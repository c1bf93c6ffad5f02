from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class RecoveryConfig(AppConfig):
    name = "recovery"
    verbose_name = "Recovery"

    def ready(self):
        from recovery.content_cache import content_changed
        from recovery.models import Disclaimer, Phase, PlanStep, Tip

        # What recovery/content_cache.py keeps: any saved or deleted step, phase, tip or disclaimer, and any
        # migration (which may rewrite the tip sheet), starts a new content generation.
        for model in (PlanStep, Phase, Tip, Disclaimer):
            post_save.connect(content_changed, sender=model, dispatch_uid=f"content-changed-save-{model.__name__}")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"content-changed-del-{model.__name__}")
        post_migrate.connect(content_changed, sender=self, dispatch_uid="content-changed-migrate")

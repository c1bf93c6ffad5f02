"""The portal's roles as groups, with the least permissions each needs (DESIGN.md, "The people")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")

PERMISSIONS = {
    "Patient": {},
    # Reception works on the front desk, never in the admin: contact details and enrolment only. (0005 takes these
    # back: the front desk checks the group, and these were only ever a risk in the admin.)
    "Reception": {
        ("accounts", "user"): ("add", "change", "view"),
        ("recovery", "recoveryplan"): ("add", "view"),
        ("recovery", "protocol"): ("view",),
    },
    # Clinicians edit content and plans; they only view accounts (no passwords, groups or staff flags).
    "Clinician": {
        ("accounts", "user"): ("view",),
        ("recovery", "tip"): ALL,
        ("recovery", "disclaimer"): ("change", "view"),
        ("recovery", "safetythresholds"): ("change", "view"),
        ("recovery", "protocol"): ALL,
        ("recovery", "phase"): ALL,
        ("recovery", "protocolstep"): ALL,
        ("recovery", "recoveryplan"): ("add", "change", "view"),
        ("recovery", "planstep"): ALL,
        ("recovery", "completion"): ("view",),
        ("recovery", "excusedday"): ("view",),
        ("recovery", "checkin"): ("view",),
        ("recovery", "alert"): ("change", "view"),
    },
}


def create_roles(apps, schema_editor):
    # A fresh database has no permissions until post_migrate runs: create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for (app_label, model), actions in grants.items():
            codenames = [f"{action}_{model}" for action in actions]
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("recovery", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]

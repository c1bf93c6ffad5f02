"""Reception works at the front desk, which checks the Reception group, never the admin's model permissions. The
permissions 0002 gave the group (add, change and view users; add and view plans; view protocols) were used by no
page, and an account given the staff flag by mistake would have had them in the admin: the user form (groups and
the superuser flag included) and every patient's plan. Least privilege: the group keeps none."""

from django.db import migrations

GRANTED_IN_0002 = {
    ("accounts", "user"): ("add", "change", "view"),
    ("recovery", "recoveryplan"): ("add", "view"),
    ("recovery", "protocol"): ("view",),
}


def _permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    for (app_label, model), actions in GRANTED_IN_0002.items():
        codenames = [f"{action}_{model}" for action in actions]
        yield from Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)


def reception_permissions_remove(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Reception").first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


def reception_permissions_restore(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Reception").first()
    if group is not None:
        group.permissions.add(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_session_epoch")]

    operations = [migrations.RunPython(reception_permissions_remove, reception_permissions_restore)]

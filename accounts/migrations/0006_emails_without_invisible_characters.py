"""Addresses stored with an invisible character (a zero-width space pasted at the desk) as their owners type them.

Since the login form and the front desk drop such characters, an account stored with one could no longer be
signed into. An address that would then be another account's is left as it is, and named in the output, for an
administrator to sort out.
"""

import unicodedata

from django.db import migrations


def _without_invisible(text):
    # As clinic.forms.without_invisible, written out: a migration must not change when that module does.
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def clean_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.only("pk", "email").iterator():
        clean = _without_invisible(user.email)
        if clean == user.email:
            continue
        if User.objects.filter(email__iexact=clean).exclude(pk=user.pk).exists():
            print(
                f"\n  Account {user.pk}: its address without invisible characters is another account's; left as it is."
            )
            continue
        User.objects.filter(pk=user.pk).update(email=clean)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_reception_without_admin_permissions")]

    operations = [migrations.RunPython(clean_addresses, migrations.RunPython.noop)]

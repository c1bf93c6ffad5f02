# The clinician's patients list counts open alerts per plan (issue 9: docs/BENCHMARKS.md).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recovery", "0002_clinic_content"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("acknowledged_at__isnull", True)), fields=["plan"], name="alert_open_by_plan"
            ),
        ),
    ]

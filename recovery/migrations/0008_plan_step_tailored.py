from django.db import migrations, models
from django.db.models import Q


def mark_tailored(apps, schema_editor):
    # Until now only a clinician's tailoring gave a plan's step a start or an end: an enrolment copies each step
    # with neither. Those keys are the clinician's choice, which an update from the protocol must leave alone.
    PlanStep = apps.get_model("recovery", "PlanStep")
    PlanStep.objects.filter(Q(valid_from__isnull=False) | Q(valid_until__isnull=False)).update(tailored=True)


class Migration(migrations.Migration):
    dependencies = [
        ("recovery", "0007_plan_pause"),
    ]

    operations = [
        migrations.AddField(
            model_name="planstep",
            name="tailored",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Changed, stopped or added for this patient: updates from the protocol leave it alone.",
            ),
        ),
        migrations.RunPython(mark_tailored, migrations.RunPython.noop),
    ]

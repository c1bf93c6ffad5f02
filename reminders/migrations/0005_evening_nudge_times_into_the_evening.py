"""Evening nudge times saved outside 17:00–23:30 (before the form refused them, e.g. 00:15, which said "nothing has
been logged today" every night, a quarter of an hour into the day) become 20:00, the field's default; so do those of
nudges turned off, whose box would otherwise be refused when the patient turns the nudge back on. The next
migration then keeps them in the window for good (a database constraint)."""

import datetime

from django.db import migrations

# The values of this migration's day, written out: a migration must not change when the model's do.
EVENING_FROM, EVENING_UNTIL = datetime.time(17, 0), datetime.time(23, 30)
EVENING_DEFAULT = datetime.time(20, 0)


def evening_times_into_the_evening(apps, schema_editor):
    ReminderSettings = apps.get_model("reminders", "ReminderSettings")
    ReminderSettings.objects.exclude(evening_time__range=(EVENING_FROM, EVENING_UNTIL)).update(
        evening_time=EVENING_DEFAULT
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0004_ice_session_words"),
    ]

    operations = [
        # Nothing to undo: the old times were the fault this mends.
        migrations.RunPython(evening_times_into_the_evening, migrations.RunPython.noop),
    ]

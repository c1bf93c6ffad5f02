"""Two clinicians, two tabs: a page opened before a colleague saved must not quietly put back what they changed.

The admin saves the clinic's shared records whole (a tip, a protocol's phases and steps, the safety thresholds,
the disclaimer): a page opened at 10:00 and saved at 10:30 wrote back every field as it showed them, and a
colleague's stricter alert level saved at 10:15 was gone without a word. So each field carries the value the page
showed (``clinic.forms.KeepsWhatItShowed``): what this person changed is written, what they left alone is kept as
it is stored now (a colleague's change included), and a field both changed is refused once, naming who saved it
and when, with what it says now; pressing Save again then replaces it knowingly. A row of a protocol's table this
person left alone is not saved at all (Django's formsets save only the rows that changed).

"Bring changes to current patients" is guarded by the protocol's version instead (``version_of``): what it
brings must be what its preview showed.
"""

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Max

from clinic.forms import KeepsWhatItShowed, quoted, when_said


class SharedRecordForm(KeepsWhatItShowed, forms.ModelForm):
    """The base form of an admin page (or a table's row) for a record colleagues share and edit."""

    keeps_colleagues_changes = True  # False for a page that means to save every field it shows (a revert)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or not self.keeps_colleagues_changes:
            return cleaned
        # Locked until this save commits (the admin saves in a transaction): a colleague's save at the same moment
        # waits for it, then compares with what this one wrote.
        current = type(self.instance).objects.select_for_update().filter(pk=self.instance.pk).first()
        if current is None:
            return cleaned  # deleted meanwhile: Django's own check of the row says so
        fields = self._model_fields()
        self.refuse_changed_since_shown(
            {
                name: _model_field(current, name).value_from_object(current)
                for name in fields
                if name in self.changed_data
            },
            lambda name, value: _as_read(current, name),
            who=lambda name: saved_by(current, name),
        )
        for name in fields:
            if name not in self.changed_data and name in cleaned:
                cleaned[name] = getattr(current, name)  # left alone here: as stored now, a colleague's change kept
        return cleaned

    def _model_fields(self):
        return [name for name in self.fields if _model_field(self.instance, name) is not None]


def _model_field(instance, name):
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return None if field.many_to_many or not field.concrete else field


def _as_read(record, name):
    field = record._meta.get_field(name)
    if field.choices:
        return quoted(getattr(record, f"get_{name}_display")())
    return quoted(getattr(record, name))


# How far back the history is searched for the version that changed a field (a field refused is a recent change).
VERSIONS_LOOKED_AT = 50


def saved_by(record, name):
    """Who saved the newest version of ``record`` that changed its field ``name``, and when: ("Sam Patel", "at
    10:15"); not whoever saved last (a colleague's title, then one's own summary in another tab, named oneself)."""
    versions = list(record.history.select_related("history_user").order_by("-history_id")[:VERSIONS_LOOKED_AT])
    field = record._meta.get_field(name)
    changed = next(
        (
            version
            for version, older in zip(versions, [*versions[1:], None], strict=True)
            if older is None or field.value_from_object(version) != field.value_from_object(older)
        ),
        None,
    )
    if changed is None:
        return "Someone", ""
    user = changed.history_user
    return (user.get_full_name() or str(user)) if user else "Someone", when_said(changed.history_date)


def version_of(protocol, *related):
    """The protocol's version with the models edited on its page (its phases and steps): the newest history id of
    each, so that any save of any of them changes it."""
    parts = [protocol.history.aggregate(newest=Max("history_id"))["newest"] or 0]
    for model in related:
        parent = next(field for field in model._meta.fields if field.related_model is type(protocol))
        versions = model.history.model.objects.filter(**{parent.attname: protocol.pk})
        parts.append(versions.aggregate(newest=Max("history_id"))["newest"] or 0)
    return ".".join(map(str, parts))

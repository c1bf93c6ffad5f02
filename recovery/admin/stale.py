"""Two clinicians, two tabs: a page opened before a colleague saved must not quietly put back what they changed.

The admin saves the clinic's shared records whole (a tip, a protocol with its phases and steps, the safety
thresholds, the disclaimer), so a page opened at 10:00 and saved at 10:30 writes back every field as it showed them:
a colleague's stricter alert level saved at 10:15 was gone without a word. So each page carries the version it
showed, the newest of the record's history ids (django-simple-history keeps one per save), and a save from an older
page is refused, saying who saved what and when, with what was typed kept. Pressing Save again on that page is then
a choice: its version is brought up to date with the refusal.
"""

from django import forms
from django.db.models import Max
from django.utils import timezone

VERSION_FIELD = "opened_version"


def _histories(instance, saved_with):
    """The history tables whose newest record makes the version of ``instance``: its own, and those of the models
    in ``saved_with`` (a protocol's phases and steps, edited and saved on its page)."""
    yield instance.history.model.objects.filter(**{instance._meta.pk.attname: instance.pk})
    for model in saved_with:
        parent = next(field for field in model._meta.fields if field.related_model is type(instance))
        yield model.history.model.objects.filter(**{parent.attname: instance.pk})


def version_of(instance, saved_with=()):
    return ".".join(
        str(history.aggregate(newest=Max("history_id"))["newest"] or 0) for history in _histories(instance, saved_with)
    )


def _newest_record(instance, saved_with):
    newest = [
        history.select_related("history_user").order_by("-history_id").first()
        for history in _histories(instance, saved_with)
    ]
    return max((record for record in newest if record), key=lambda record: record.history_date, default=None)


def _what_changed(instance, opened):
    """The labels of the record's own fields saved since the version ``opened``, or "" when only its phases or steps
    changed (or the version is unknown)."""
    history = instance.history.model.objects.filter(**{instance._meta.pk.attname: instance.pk})
    own_id = int(opened.split(".")[0] or 0)
    then, now = (
        history.filter(history_id__lte=own_id).order_by("-history_id").first(),
        history.order_by("-history_id").first(),
    )
    if then is None or now is None or then.pk == now.pk:
        return ""
    names = [change.field for change in now.diff_against(then).changes]
    return ", ".join(str(instance._meta.get_field(name).verbose_name) for name in names)


class SavedSinceOpenedForm(forms.ModelForm):
    """The base form of an admin page for a shared record: refuses a save from a page opened before a colleague's."""

    opened_version = forms.CharField(widget=forms.HiddenInput, required=False)
    saved_with = ()  # models saved on the same page, whose changes are the record's too

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields[VERSION_FIELD].initial = version_of(self.instance, self.saved_with)

    def clean(self):
        cleaned = super().clean()
        opened = cleaned.get(VERSION_FIELD)
        if not self.instance.pk or not opened:
            return cleaned
        # Locked until this save commits (the admin saves in a transaction): a colleague's save at the same moment
        # waits for it, then finds the new version and is refused in turn.
        type(self.instance).objects.select_for_update().filter(pk=self.instance.pk).values_list("pk").first()
        current = version_of(self.instance, self.saved_with)
        if current != opened:
            self.data = self.data.copy()
            self.data[self.add_prefix(VERSION_FIELD)] = current
            raise forms.ValidationError(self._refusal(opened))
        return cleaned

    def _refusal(self, opened):
        record = _newest_record(self.instance, self.saved_with)
        who = (
            (record.history_user.get_full_name() or str(record.history_user))
            if record and record.history_user
            else "Someone"
        )
        when = f" at {timezone.localtime(record.history_date):%H:%M}" if record else ""
        changed = _what_changed(self.instance, opened)
        what = f" ({changed})" if changed else ""
        return (
            f"{who} saved this{when}, after you opened this page, so saving now would put back what they "
            f"changed{what}. Nothing is saved yet and what you typed is still here: look at their change in History "
            "(open it in a new tab), then press Save again to keep your version."
        )

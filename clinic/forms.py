"""What every form of the portal does the same way."""

import datetime
import unicodedata

from django import forms
from django.utils import timezone


class FocusFirstProblem:
    """A refused form puts the cursor on its first field with a problem, not back on the form's first field: a
    keyboard user fixes it without tabbing through what was right (a screen reader reads its message there)."""

    def full_clean(self):
        super().full_clean()
        problems = [name for name in self.fields if name in self.errors]
        if problems:
            for field in self.fields.values():
                field.widget.attrs.pop("autofocus", None)
            self.fields[problems[0]].widget.attrs["autofocus"] = True


def without_invisible(text):
    """``text`` without invisible formatting characters (zero-width spaces and joiners, byte-order marks, direction
    marks): copied from an e-mail or a chat they come along unseen, and an address holding one is not the address
    its owner types to log in."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


class EmailAddressField(forms.EmailField):
    """An e-mail address as its owner would type it: Django's field, without the invisible characters of a paste."""

    def to_python(self, value):
        return without_invisible(super().to_python(value))


def name_on_one_line(name, label):
    """A name typed at the desk or read from a group file, and why it cannot be printed on a welcome sheet (None when
    it can): a line break or tab pasted from a spreadsheet cell ("Ann⏎Marie") is a space; any other character that
    cannot be printed is refused."""
    name = " ".join(name.split())
    if not name.isprintable():
        return name, f"The {label} holds a character that cannot be printed: retype it."
    return name, None


class CountsLineBreaksOnce:
    """A browser sends a line break as two characters (CRLF) but counts it as one against a box's ``maxlength``:
    read as one, so a note that fits the box is never refused as too long (a check-in with a warning sign was,
    "it has 2018")."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


class TextareaCountingLineBreaksOnce(CountsLineBreaksOnce, forms.Textarea):
    pass


class HiddenInputCountingLineBreaksOnce(CountsLineBreaksOnce, forms.HiddenInput):
    """The value a page showed (``show_hidden_initial``), read as its box is, so the two compare equal."""


def count_line_breaks_once(field):
    """Give a generated text field (a model form's, the admin's) the textarea above, keeping its attributes."""
    field.widget = TextareaCountingLineBreaksOnce(attrs=field.widget.attrs)
    field.hidden_widget = HiddenInputCountingLineBreaksOnce


class KeepsWhatItShowed:
    """A form for a record two people may have open at once (a clinician and the front desk, two tabs): each field
    carries the value the page showed (``show_hidden_initial``), so ``changed_data`` is what this person changed,
    not what differs from the record now, and the caller writes only that. A field both changed is refused once by
    ``refuse_changed_since_shown``, saying what it says now; the page then carries that value as the one it showed,
    so pressing Save again replaces it knowingly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.show_hidden_initial = True
            if isinstance(field.widget, forms.Textarea) and not isinstance(field.widget, CountsLineBreaksOnce):
                # A browser sends CRLF: read as the stored LF, an unchanged text is not a change (nor a clash).
                count_line_breaks_once(field)

    def full_clean(self):
        # A post without the values shown (not from this page: a script, an older page) changes what differs from
        # the record now, as a form without them would.
        missing = [name for name in self.fields if self.add_initial_prefix(name) not in self.data]
        if self.is_bound and missing:
            self.data = self.data.copy()
            for name in missing:
                shown = self.fields[name].prepare_value(self[name].initial)
                self.data[self.add_initial_prefix(name)] = _as_posted(shown)
        super().full_clean()

    def refuse_changed_since_shown(self, stored, describe, who=lambda name: ("Someone", "")):
        """``stored``: the current value of each field by name (read under a lock); ``describe(name, value)``: the
        value as the message quotes it; ``who(name)``: who saved the field, and when ("Sam Patel", "at 10:15"),
        asked only when it is refused."""
        data = self.data.copy()
        for name in self.changed_data:
            if name not in stored:
                continue
            field, initial_name = self.fields[name], self.add_initial_prefix(name)
            value = stored[name]
            if isinstance(value, str):
                value = value.replace("\r\n", "\n")  # as the page's text is read (CountsLineBreaksOnce)
            shown = field.hidden_widget().value_from_datadict(self.data, self.files, initial_name)
            typed = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            if not field.has_changed(value, shown) or not field.has_changed(value, typed):
                continue  # not changed since the page showed it; or changed to just what this person typed
            data[initial_name] = _as_posted(value)
            person, when = who(name)
            self.add_error(
                name,
                f"{person} saved a change to this {when + ', ' if when else ''}after you opened the page: it now says "
                f"{describe(name, value)}. Nothing is saved yet: press the same button again to replace it with "
                "what you typed.",
            )
        self.data = data


def when_said(moment):
    """A moment as a message says it: "at 10:15" today, "yesterday at 16:05", else "on 25 Nov at 16:05"."""
    local = timezone.localtime(moment)
    today = timezone.localdate()
    if local.date() == today:
        return f"at {local:%H:%M}"
    if local.date() == today - datetime.timedelta(days=1):
        return f"yesterday at {local:%H:%M}"
    return f"on {local:%-d %b} at {local:%H:%M}"


def last_saved_in_the_admin(record, says=()):
    """Who saved ``record`` in the admin, and when, from the newest entry of its History whose words include each of
    ``says`` (the field's label and its value now): ("Sam Patel", "at 10:15"). ("Someone", "") when none does: the
    change was made elsewhere (the front desk writes no admin History), and a name guessed would be wrong."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    entries = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(record), object_id=str(record.pk))
        .select_related("user")
        .order_by("-action_time")[:20]
    )
    entry = next((entry for entry in entries if all(words in entry.change_message for words in says)), None)
    if entry is None:
        return "Someone", ""
    return entry.user.get_full_name() or str(entry.user), when_said(entry.action_time)


def _as_posted(value):
    return "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def quoted(value):
    """A stored value as a message quotes it: dates as people write them, a box ticked or not, text quoted."""
    if isinstance(value, bool):
        return "ticked" if value else "not ticked"
    if value in (None, ""):
        return "nothing"
    if hasattr(value, "strftime"):
        return f"{value:%-d %b %Y}"
    return f"“{value}”"

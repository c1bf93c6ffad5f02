"""What every form of the portal does the same way."""

import unicodedata

from django import forms


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

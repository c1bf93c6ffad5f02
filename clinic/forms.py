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


def name_problem(name, label):
    """Why a name (already on one line: ``" ".join(name.split())``) cannot be printed on a welcome sheet, or None.
    The same rule for a name typed at the desk and one read from a group file."""
    if not name.isprintable():
        return f"The {label} holds a character that cannot be printed: retype it."
    return None


class LineBreaksAsOne:
    """A browser sends a line break as two characters (CRLF) but counts it as one against a box's ``maxlength``:
    read as one, so a note that fits the box is never refused as too long (a check-in with a warning sign was,
    "it has 2018")."""

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return value.replace("\r\n", "\n") if isinstance(value, str) else value


class Textarea(LineBreaksAsOne, forms.Textarea):
    pass


class HiddenLineBreaks(LineBreaksAsOne, forms.HiddenInput):
    """The value a page showed (``show_hidden_initial``), read as its box is, so the two compare equal."""


def read_line_breaks_as_one(field):
    """Give a generated text field (a model form's, the admin's) the ``Textarea`` above, keeping its attributes."""
    field.widget = Textarea(attrs=field.widget.attrs)
    field.hidden_widget = HiddenLineBreaks

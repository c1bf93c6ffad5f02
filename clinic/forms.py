"""What every form of the portal does the same way."""


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

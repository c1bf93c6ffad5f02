"""A password is not the person's name: Django's similarity check compares it with the first name, the last name and
the e-mail one at a time, so "mary smith 1" passed for Mary Smith, though the page says a password can't be too
similar to the rest of what we know of them."""

from difflib import SequenceMatcher

from django.core.exceptions import ValidationError

# As Django's UserAttributeSimilarityValidator: how alike counts as too alike.
MAX_SIMILARITY = 0.7


def _letters(text):
    return "".join(char for char in text.lower() if char.isalnum())


class FullNameSimilarityValidator:
    def validate(self, password, user=None):
        first, last = _letters(getattr(user, "first_name", "") or ""), _letters(getattr(user, "last_name", "") or "")
        if not (first and last):
            return  # one name alone is Django's own check
        typed = _letters(password)
        for name in (first + last, last + first):
            if name in typed or SequenceMatcher(a=typed, b=name).ratio() >= MAX_SIMILARITY:
                raise ValidationError(
                    "This password is too much like your name. Choose one that doesn't contain it.",
                    code="password_like_full_name",
                )

    def get_help_text(self):
        return "Your password can't be your name."

"""Reception's search: a patient found by name, e-mail, phone number (as typed, or the UK number written the
other way) or date of birth."""

from django.contrib.auth import get_user_model
from django.db.models import F, Q, Value
from django.db.models.functions import Replace

from accounts.frontdesk import intake

SEARCH_RESULTS = 50

User = get_user_model()


def _uk_phone_forms(digits):
    """The digits as typed, and the same UK number written the other way: "+44 7700 900123" and "07700 900123"."""
    for prefix in ("0044", "44"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 6:
            return {digits, "0" + digits[len(prefix) :]}
    if digits.startswith("0") and not digits.startswith("00") and len(digits) > 7:
        return {digits, "44" + digits[1:]}
    return {digits}


def search_patients(query):
    """Patients matching every word of ``query`` by name or e-mail, or matching it as a phone number or a
    date of birth. Odd input finds nothing rather than failing."""
    query = "".join(char for char in query if char.isprintable())[:100].strip()
    if not query:
        return User.objects.none()
    conditions = Q()
    words = query.split()[:5]
    by_name = Q()
    for word in words:
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
    conditions |= by_name
    digits = "".join(char for char in query if char.isdigit())
    if len(digits) >= 4 and set(query) <= intake.PHONE_CHARACTERS:
        for form in _uk_phone_forms(digits):
            conditions |= Q(phone_digits__contains=form)
    if (born := intake.parse_date(query)) is not None:
        conditions |= Q(date_of_birth=born)
    # Phone numbers are stored as typed ("07700 900-123"): compare their digits.
    phone_digits = F("phone")
    for char in " -().+":
        phone_digits = Replace(phone_digits, Value(char), Value(""))
    return (
        User.objects.patients()
        .annotate(phone_digits=phone_digits)
        .filter(conditions)
        .order_by("last_name", "first_name", "pk")[:SEARCH_RESULTS]
    )

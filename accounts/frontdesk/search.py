"""Reception's search: a patient found by name, e-mail, phone number (as typed, or the UK number written the
other way) or date of birth."""

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Replace

from accounts.frontdesk import intake
from recovery.models import RecoveryPlan

SEARCH_RESULTS = 50

User = get_user_model()


def _phone_digits_to_find(digits):
    """What a stored number's digits must contain: a UK number's own digits without "+44", "0044" or "0" in front
    (stored as typed, "+44 7700 900123" or "07700 900123", and looked for either way), else the digits as typed."""
    for prefix in ("0044", "44", "0"):
        national = digits[len(prefix) :]
        if digits.startswith(prefix) and not national.startswith("0") and len(national) >= 9:
            return national
    return digits


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
        conditions |= Q(phone_digits__contains=_phone_digits_to_find(digits))
    if (born := intake.parse_date(query)) is not None:
        conditions |= Q(date_of_birth=born)
    # Phone numbers are stored as typed ("07700 900-123"): compare their digits.
    phone_digits = F("phone")
    for char in " -().+":
        phone_digits = Replace(phone_digits, Value(char), Value(""))
    # Each one's open plan's race day, if any: a runner back after another race has none (their page starts one).
    open_plan = RecoveryPlan.objects.open().filter(patient=OuterRef("pk")).values("race_date")[:1]
    return (
        User.objects.patients()
        .annotate(phone_digits=phone_digits, open_plan_race_date=Subquery(open_plan))
        .filter(conditions)
        .order_by("last_name", "first_name", "pk")[:SEARCH_RESULTS]
    )

from django.conf import settings


def clinic(request):
    """The clinic's name and phone number, shown on every page."""
    return {"CLINIC_NAME": settings.CLINIC_NAME, "CLINIC_PHONE": settings.CLINIC_PHONE}

"""The portal's roles are Django groups; this module is the one place that names them."""

from enum import StrEnum


class Role(StrEnum):
    PATIENT = "Patient"
    RECEPTION = "Reception"
    CLINICIAN = "Clinician"


def has_role(user, role):
    if not user.is_authenticated:
        return False
    # Groups are read once per request and cached on the user object.
    if not hasattr(user, "_role_names"):
        user._role_names = set(user.groups.values_list("name", flat=True))
    return role in user._role_names


def is_patient(user):
    return has_role(user, Role.PATIENT)


def is_reception(user):
    return has_role(user, Role.RECEPTION)


def is_clinician(user):
    return user.is_authenticated and user.is_staff and (user.is_superuser or has_role(user, Role.CLINICIAN))

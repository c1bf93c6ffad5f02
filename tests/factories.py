"""Factories for every role and for plans built from the clinic's default protocol."""

import datetime

import factory
from django.contrib.auth.models import Group
from django.db import connection

from accounts.models import User
from accounts.roles import Role
from recovery.clock import clinic_today
from recovery.models import CheckIn, Completion, Protocol, RecoveryPlan
from recovery.services import plan_enrol

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.add(Group.objects.get(name=extracted))


def _role(default):
    """A post-generation hook adding the user to ``default``'s group, or to the role passed as ``role=``.

    (A plain ``role = Role.PATIENT`` in a subclass would replace the hook and reach User() as a field.)
    """

    def add_to_group(user, create, extracted, **kwargs):
        if create:
            user.groups.add(Group.objects.get(name=extracted or default))

    return factory.PostGeneration(add_to_group)


class PatientFactory(UserFactory):
    role = _role(Role.PATIENT)


class ReceptionFactory(UserFactory):
    role = _role(Role.RECEPTION)


class ClinicianFactory(UserFactory):
    is_staff = True
    role = _role(Role.CLINICIAN)


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


def make_plan(patient=None, *, days_since_race=5, protocol=None, clinician=None, today=None, enrolled_days_ago=0):
    """A plan on the clinic's default protocol whose race was ``days_since_race`` days before today, enrolled at
    the front desk ``enrolled_days_ago`` days before today (days before it count only where filled in)."""
    today = today or clinic_today()
    plan = plan_enrol(
        patient=patient or PatientFactory(),
        protocol=protocol or Protocol.objects.default(),
        race_date=today - datetime.timedelta(days=days_since_race),
        clinician=clinician,
    )
    if enrolled_days_ago:
        plan.created_at -= datetime.timedelta(days=enrolled_days_ago)
        RecoveryPlan.objects.filter(pk=plan.pk).update(created_at=plan.created_at)
    return plan


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    date = factory.LazyFunction(clinic_today)
    pain = 2


class CompletionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Completion

    date = factory.LazyFunction(clinic_today)
    count = 1


def insert_as_the_release_before(row, *new_fields):
    """INSERT ``row`` (an unsaved model instance) naming every column but ``new_fields`` and the id, as the release
    before those fields does between `migrate` and the reload of a deployment (docs/DEPLOY.md)."""
    fields = [field for field in row._meta.concrete_fields if field.name not in ("id", *new_fields)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(row._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields],
        )

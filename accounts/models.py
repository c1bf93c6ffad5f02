from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac

from accounts.roles import Role
from clinic.sql import fetch_instance, select_columns


class UserQuerySet(models.QuerySet):
    def patients(self):
        """People in the Patient group who are not staff: the only accounts the front desk may see or change."""
        return self.filter(groups__name=Role.PATIENT, is_staff=False, is_superuser=False)

    def awaiting_activation(self):
        """Invited, still switched on, and no password yet: the invitation has not been used."""
        return self.filter(invited_at__isnull=False, is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def signed_in(self, pk):
        """The user ``pk``, or None: the user of a session, looked up on every signed-in request.

        Hand-written for that reason: the ORM spent more Python building ``get(pk=pk)`` than PostgreSQL spent on
        the query (docs/BENCHMARKS.md). The same instance, from the same columns.
        """
        table = self.model._meta.db_table
        sql = f'SELECT {select_columns(self.model, "u")} FROM "{table}" u WHERE u."{self.model._meta.pk.column}" = %s'
        return fetch_instance(self.model, self.db, sql, [pk])

    def get_by_natural_key(self, email):
        # People type their address as they remember it: "Ann@Example.com" is ann@example.com.
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)  # None gives an unusable password: patients set their own via invitation
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in with an e-mail address: patient, receptionist, clinician or administrator."""

    username = None
    email = models.EmailField("e-mail address", unique=True)
    phone = models.CharField("mobile phone", max_length=32, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    # The current invitation. A new one moves ``invited_at``, which is part of the link's token, so older links
    # stop working (accounts/frontdesk/invitations.py).
    invited_at = models.DateTimeField(null=True, blank=True)
    # Set by the e-mail task: when the current invitation's e-mail actually went out, or when sending it failed
    # (the front desk then says "e-mail not sent" and offers to resend).
    invitation_sent_at = models.DateTimeField(null=True, blank=True)
    invitation_failed_at = models.DateTimeField(null=True, blank=True)
    privacy_consent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient accepted the clinic's privacy notice."
    )
    # Part of every session's auth hash: logging out raises it, which ends the person's sessions everywhere
    # (accounts/views.py LogoutView), whatever the session engine.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ignoring_case"),
        ]

    def __str__(self):
        return self.get_full_name() or self.email

    def clean(self):
        super().clean()
        # Lower-cased before the uniqueness checks, so "Ann@Example.com" is found to be ann@example.com's
        # address and the form says so in plain words.
        self.email = self.email.strip().lower()

    def first_name_and_initial(self):
        """First name and last initial, as in "Mary S.": enough for a person to tell that an invitation is theirs,
        not enough to say who it is for to a stranger who got it through a mistyped address. Empty without a first
        name."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if not first:
            return ""
        return f"{first} {last[0].upper()}." if last else first

    @property
    def is_activated(self):
        """The person has chosen a password (through their invitation, or otherwise)."""
        return self.has_usable_password()

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret=None):
        # Epoch 0 keeps Django's own hash, so sessions from before this field existed stay valid.
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()

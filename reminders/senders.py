"""How a reminder leaves: a small interface, so that an SMS provider can be plugged in later beside e-mail.

A sender gets a ``Reminder`` (who, what, and the unsubscribe link) and either delivers it or raises. To add a
channel, write a class with a ``channel`` name and a ``send(reminder)`` method (``Sender``) and return it from
``sender_for`` for the patients who chose it; nothing else changes: the delivery records, the claim and the
unsubscribe link are the same for every channel.
"""

import email.policy
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from typing import Protocol

from django.core.mail import EmailMessage

MAILER = "default"
# RFC 5322's limit for a line of a header: a header longer than this may be folded.
HEADER_LINE_LIMIT = 998


@dataclass(frozen=True)
class Reminder:
    name: str
    email: str
    phone: str
    subject: str
    body: str  # the full text, for e-mail
    short: str  # one line, for a text message
    unsubscribe_url: str


class Sender(Protocol):
    channel: str

    def send(self, reminder: Reminder) -> None:
        """Deliver the reminder, or raise: the delivery is then recorded as failed."""


class _OneLineHeader(UnstructuredHeader):
    """A header kept on one line up to ``HEADER_LINE_LIMIT``. Python's e-mail policies fold headers at 78
    characters, and a header with no space to fold at (the unsubscribe link, ~130 characters) is then RFC 2047
    encoded, "=?utf-8?q?=3Chttps=3A//...": mail apps read no address in it and show no Unsubscribe button."""

    def fold(self, *, policy):
        return super().fold(policy=policy.clone(max_line_length=HEADER_LINE_LIMIT))


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _OneLineHeader)


class ReminderEmail(EmailMessage):
    """An e-mail whose List-Unsubscribe header leaves as written, ``<https://…>``, whatever backend sends it: each
    backend builds the message with its own policy (the SMTP one passes ``email.policy.SMTP``), so the header's
    class is set on that policy, for that header alone (the subject and body fold as usual)."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(header_factory=_HEADERS))


class EmailSender:
    channel = "email"

    def send(self, reminder: Reminder) -> None:
        message = ReminderEmail(
            subject=reminder.subject,
            body=reminder.body,
            to=[reminder.email],
            headers={
                # RFC 2369 and RFC 8058: mail clients show an "Unsubscribe" button that POSTs
                # "List-Unsubscribe=One-Click" to this address, with no cookie and no CSRF token.
                "List-Unsubscribe": f"<{reminder.unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
        message.send(using=MAILER)


def sender_for(user) -> Sender:
    """The channel a patient's reminders use: e-mail for everyone, until a patient can choose another."""
    return EmailSender()

"""How a reminder leaves: a small interface, so that an SMS provider can be plugged in later beside e-mail.

A sender gets a ``Reminder`` (who, what, and the unsubscribe link) and either delivers it or raises. To add a
channel, write a class with a ``channel`` name and a ``send(reminder)`` method (``Sender``) and return it from
``sender_for`` for the patients who chose it; nothing else changes: the delivery records, the claim and the
unsubscribe link are the same for every channel.
"""

from dataclasses import dataclass
from typing import Protocol

from django.core.mail import EmailMessage

MAILER = "default"


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


class EmailSender:
    channel = "email"

    def send(self, reminder: Reminder) -> None:
        message = EmailMessage(
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

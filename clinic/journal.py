"""Log lines that systemd's journal files under their own level, so that ``journalctl -u apex-web -p err`` shows the
portal's errors (docs/OPERATIONS.md, "Errors").

A service's standard error goes to the journal at one priority, info, unless a line starts with its level as
sd-daemon(3) writes it: ``<3>`` for an error. Every line of a record gets the prefix, a traceback's too, so the whole
error shows under ``-p err``. Only when standard error is the journal (``JOURNAL_STREAM`` names it, as systemd
sets it): in a terminal or a file the lines stay as they were.
"""

import logging
import os

# sd-daemon's priorities for Python's levels, highest first; anything lower is debug (7).
PRIORITIES = [(logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6)]


def stderr_is_journal():
    """Whether standard error is the journal's stream: JOURNAL_STREAM is "device:inode" of it (systemd.exec(5))."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(2)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


def priority(levelno):
    return next((number for level, number in PRIORITIES if levelno >= level), 7)


class JournalFormatter(logging.Formatter):
    """The console handler's formatter (settings.LOGGING): the plain line, each line prefixed with its priority
    when the journal reads it."""

    def __init__(self, *args, journal=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.journal = stderr_is_journal() if journal is None else journal

    def format(self, record):
        text = super().format(record)
        if not self.journal:
            return text
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.split("\n"))

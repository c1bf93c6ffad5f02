"""Group intake: read a CSV of patients and say, line by line and in plain words, what is wrong with it.

Plain functions over plain data (bytes in, rows out); the only outside knowledge, which e-mail addresses already
have an account, is passed in. The view stores the checked rows between the preview and the confirmation and
checks them again before enrolling anyone.
"""

import codecs
import csv
import datetime
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.frontdesk import email_typos
from clinic.forms import name_on_one_line, without_invisible
from clinic.spreadsheets import csv_text, from_text
from recovery.services import race_date_problem

COLUMNS = ("first_name", "last_name", "email", "phone", "race_date")
MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
NAME_MAX = 150
PHONE_MAX = 32
PHONE_CHARACTERS = set("0123456789+-() .")
PHONE_MIN_DIGITS = 6


def phone_problem(phone):
    """What is wrong with a phone number as typed at the desk or in a file, in plain words; None when it will do."""
    if not set(phone) <= PHONE_CHARACTERS or len(phone) > PHONE_MAX:
        return "A phone number may hold only digits, spaces and + - ( )."
    if sum(char.isdigit() for char in phone) < PHONE_MIN_DIGITS:
        return "This phone number is too short."
    return None


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


class IntakeFileError(ValueError):
    """The file as a whole cannot be read; the message is written for reception."""


@dataclass
class IntakeRow:
    line: int
    first_name: str
    last_name: str
    email: str
    phone: str
    race_date_text: str
    race_date: datetime.date | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # worth a look, but the line can be enrolled as it is
    layout_problem: str = ""  # the line has fewer values than the header names

    def as_stored(self):
        """What the session keeps between the preview and the confirmation: plain JSON."""
        return [self.line, self.first_name, self.last_name, self.email, self.phone, self.race_date_text]

    @classmethod
    def from_stored(cls, values):
        line, first_name, last_name, email, phone, race_date_text = values
        return cls(int(line), str(first_name), str(last_name), str(email), str(phone), str(race_date_text))


def parse_date(text):
    """A date written as 2026-04-26 or 26/04/2026 (day first, as in the UK); None if it is neither."""
    text = text.strip()
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _decode(data):
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" and some "CSV UTF-16" exports: text, with a byte-order mark saying so.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise IntakeFileError(
            "This file is not a CSV file (it looks like a spreadsheet or another kind of file). In your spreadsheet, "
            "use “Save as” and choose “CSV”, then upload that file."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older versions of Excel save CSV in the Windows character set.
        return data.decode("cp1252", errors="replace")


def read_rows(data):
    """The file's rows as IntakeRows (not yet checked), or IntakeFileError with a plain message."""
    if len(data) > MAX_BYTES:
        raise IntakeFileError(
            f"This file is too big: the limit is {MAX_BYTES // 1_000_000} MB ({MAX_ROWS:,} patients). "
            "Split it into smaller files."
        )
    text = _decode(data)
    if not text.strip():
        raise IntakeFileError("This file is empty.")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower().replace(" ", "_") for name in next(reader)]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise IntakeFileError(
                f"The file is missing the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
                f"Its first line must name the columns: {','.join(COLUMNS)}"
            )
        where = {name: header.index(name) for name in COLUMNS}
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # blank lines
            if len(rows) >= MAX_ROWS:
                raise IntakeFileError(f"This file has more than {MAX_ROWS:,} patients. Split it into smaller files.")
            row = IntakeRow(reader.line_num, *(_cell(values, where[name]) for name in COLUMNS))
            if len(values) < len(header):
                row.layout_problem = f"This line has {len(values)} values; the first line names {len(header)} columns."
            rows.append(row)
    except csv.Error:
        raise IntakeFileError(
            f"This file could not be read as CSV (near line {reader.line_num}). Save it again as CSV and upload it."
        ) from None
    if not rows:
        raise IntakeFileError("This file has no patients in it, only the line naming the columns.")
    return rows


def _cell(values, index):
    return from_text(values[index].strip()) if index < len(values) else ""


def check_rows(rows, *, today, taken_emails):
    """Fill in each row's problems and race date. ``taken_emails``: lower-cased addresses that have an account.

    Returns the rows, in file order; a row is fine when its ``problems`` list is empty.
    """
    first_line_of = {}
    for row in rows:
        row.email = without_invisible(row.email).lower()
        problems = [row.layout_problem] if row.layout_problem else []
        for name, label in (("first_name", "first name"), ("last_name", "last name")):
            value, unprintable = name_on_one_line(getattr(row, name), label)
            setattr(row, name, value)
            if not value:
                problems.append(f"The {label} is missing.")
            elif len(value) > NAME_MAX:
                problems.append(f"The {label} is longer than {NAME_MAX} characters.")
            elif "\ufffd" in value:  # a letter the Windows character set had no place for, read as "�"
                problems.append(
                    f"The {label} has a letter that could not be read (“{value}”): save the file as “CSV UTF-8” and "
                    "upload it again."
                )
            elif unprintable:
                problems.append(unprintable)
        if not row.email:
            problems.append("The e-mail address is missing.")
        elif not _is_email(row.email):
            problems.append(f"“{row.email}” is not an e-mail address.")
        elif row.email in first_line_of:
            problems.append(f"The same e-mail address is on line {first_line_of[row.email]}.")
        elif row.email in taken_emails:
            problems.append("Someone with this e-mail address already has an account.")
        elif meant := email_typos.suggestion(row.email):
            row.warnings = [f"Did you mean {meant}? If so, correct it in the file and upload it again."]
        if row.email:
            first_line_of.setdefault(row.email, row.line)
        if row.phone and (problem := phone_problem(row.phone)):
            problems.append(problem)
        row.race_date = parse_date(row.race_date_text) if row.race_date_text else None
        if not row.race_date_text:
            problems.append("The race date is missing.")
        elif row.race_date is None:
            problems.append(f"“{row.race_date_text}” is not a date. Write it as 2026-04-26 or 26/04/2026.")
        elif problem := race_date_problem(row.race_date, today):
            problems.append(problem)
        row.problems = problems
    return rows


def to_fix_csv(rows):
    """The rows with problems as a CSV file reception corrects and uploads again (UTF-8 with a BOM, which Excel
    needs to read it as UTF-8): the intake's columns, then what is wrong, which a new upload ignores. A value a
    spreadsheet would run as a formula goes in as text (clinic/spreadsheets.py), which ``read_rows`` reads back
    as it went ("+44 7700 900123")."""
    return csv_text([
        [*COLUMNS, "problem"],
        *(
            [row.first_name, row.last_name, row.email, row.phone, row.race_date_text, " ".join(row.problems)]
            for row in rows
            if row.problems
        ),
    ])  # fmt: skip


def _is_email(value):
    if len(value) > 254:
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True

"""CSV files that staff and patients open in a spreadsheet: a value that would run there as a formula goes in as text.

A name from a running club's file, or a check-in's note, can start with "=" ("=HYPERLINK(…)"), and a spreadsheet
runs it when the file is opened (CSV injection). OWASP's advice: such a cell starts with an apostrophe, which
makes it text in the spreadsheet and is not shown there.
"""

import csv
import io

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The first character of every CSV file the portal writes: without it Excel reads UTF-8 as the Windows character
# set, and "Zoë Brontë" opens as "ZoÃ« BrontÃ«".
EXCEL_BOM = "\ufeff"


def as_text(value):
    """``value`` for a CSV cell: a string a spreadsheet would take for a formula after an apostrophe; anything
    else (numbers, dates, other strings) as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def from_text(value):
    """A cell read back from a file ``as_text`` wrote, edited in a plain text editor that kept the apostrophe."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_text(rows):
    """``rows`` (lists of values) as the text of a CSV file for a spreadsheet: the byte-order mark first, every
    value ``as_text``. Every CSV file the portal writes is made here."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([as_text(value) for value in row] for row in rows)
    return EXCEL_BOM + buffer.getvalue()

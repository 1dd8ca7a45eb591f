"""Writing stored text into workbooks safely (every .xlsx the services produce goes through here).

Text in the archive comes from employers and staff; a workbook must show it, never run it:

* control characters that XML 1.0 cannot hold (openpyxl refuses them with an error) are replaced by
  U+FFFD, so one odd name cannot turn an export into a 500;
* a text starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return before one) is written
  as a **text** cell, never as a formula (CSV/formula injection): Excel shows ``=HYPERLINK(…)`` as
  the characters, not as a live link; in a CSV a person opens (:func:`csv_cell`) it stands behind
  a single quote.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str) -> str:
    """``value`` without the characters a workbook cannot hold (each replaced by U+FFFD)."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def cell(sheet: Any, value: Any) -> Any:
    """A value ready to append to ``sheet``: cleaned text, and formula-like text as a text cell."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    if not text.startswith(FORMULA_START):
        return text
    written = WriteOnlyCell(sheet, value=text)
    written.data_type = "s"  # text, whatever it looks like
    return written


def append(sheet: Worksheet | Any, values: Iterable[Any]) -> None:
    """``sheet.append(values)`` with every text made safe (works for write-only sheets too)."""
    sheet.append([cell(sheet, value) for value in values])


def csv_cell(value: Any) -> Any:
    """A value for a CSV a person opens in a spreadsheet: cleaned text, and formula-like text behind a
    single quote (a CSV has no text type; the quote is what spreadsheets read as "this is text")."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text

"""Writing stored text into workbooks safely (every .xlsx the services produce goes through here).

Text in the archive comes from employers and staff; a workbook must show it, never run it:

* control characters that XML 1.0 cannot hold (openpyxl refuses them with an error) are replaced by
  U+FFFD, so one odd name cannot turn an export into a 500;
* a text starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return before one) is written
  as a **text** cell, never as a formula (CSV/formula injection): Excel shows ``=HYPERLINK(…)`` as
  the characters, not as a live link; in a CSV a person opens (:func:`csv_cell`) it stands behind
  a single quote.

And every word a person reads in a workbook — sheet names, column titles, notes, enumerated values
(a status, an outcome, a step) — is a message code of the ``xlsx`` catalogue
(``shared/i18n/locales/<locale>/LC_MESSAGES/xlsx.po``), written in Chinese unless a workbook is asked
for in English; :func:`word` and :func:`yes_no` turn a stored value into its words, codes and ids stay
as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.worksheet.worksheet import Worksheet

from shared import i18n

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


# --------------------------------------------------------------------------- words


def word(codes: Mapping[str, str], value: Any, locale: str = i18n.DEFAULT_LOCALE) -> Any:
    """An enumerated value (a status, an outcome, a step …) in words: the text of its code in ``codes``
    (value → message code); a value without one as it is (a value added later still shows), None stays empty."""
    if value is None or isinstance(value, bool):
        return value
    code = codes.get(str(value))
    return i18n.text(code, locale=locale) if code else value


def yes_no(value: Any, locale: str = i18n.DEFAULT_LOCALE) -> Any:
    """A yes/no value as 是 / 否 (yes / no in English); None stays empty."""
    if value is None:
        return None
    return i18n.text("xlsx.value.yes" if value else "xlsx.value.no", locale=locale)


def joined(items: Iterable[Any], locale: str = i18n.DEFAULT_LOCALE, *, strong: bool = False) -> str:
    """Several values in one cell: ``、`` between them in Chinese (``；`` when ``strong``: items that have
    commas of their own), ``, `` (``; ``) in English."""
    separator = ("；" if strong else "、") if locale == i18n.ZH else ("; " if strong else ", ")
    return separator.join(str(item) for item in items)


def china_time(moment: datetime, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A moment as it is given (China time): ``2024年5月1日 10:30:00（北京时间）``."""
    return i18n.text("xlsx.common.china_time", {"day": moment.date().isoformat(), "time": moment.strftime("%H:%M:%S")}, locale)

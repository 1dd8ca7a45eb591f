"""Every text a person reads, in zh-CN (the default) and English: one catalogue, stable codes.

A decision, an error, a flag or a document line is a **code** and its **parameters**
(``Message``); the words are in gettext catalogues (Babel's ``.po`` files under
``shared/i18n/locales/<locale>/LC_MESSAGES/<domain>.po``, one domain per part of the platform:
``terms``, ``errors``, ``assessment``, ``penalty`` …). The message id of a catalogue entry is the
code itself (``assessment.trace.nature.catalogue``), its text a Python format string over the
parameters (``{factor}：{nature}（来源：危害因素目录）``). Adding a decision is adding one code and
its two texts; ``tests/unit/shared/test_i18n.py`` checks that every id has both languages with the
same placeholders and that every code the code uses is in the catalogue.

Parameters are JSON values (events carry them). Three format specs say how a value is written in
each language:

* ``{day:date}`` — an ISO date: ``2023年6月1日`` in Chinese, ``2023-06-01`` in English;
* ``{nature:term}`` — a domain term kept in Chinese (严重, 不符合, 甲 …): itself in Chinese, and in
  English the term with its translation beside it, ``严重 (serious)``, from the ``terms`` domain
  (``docs/glossary.md`` fixes them);
* ``{items:list}`` — a list, joined with ``、`` in Chinese and ``, `` in English.

Anything else is Python's format (``{score:g}``).
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from pydantic import BaseModel, Field

from shared.dates import CHINA

ZH = "zh_CN"
EN = "en"
LOCALES: tuple[str, ...] = (ZH, EN)
DEFAULT_LOCALE = ZH
LOCALES_DIR = Path(__file__).with_name("locales")
CODE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_\-]+)+$"
CODE_MAX_LENGTH = 120
PARAMS_MAX = 40


class Message(BaseModel):
    """A text for people as a code and its parameters; rendered per language by :func:`text`."""

    code: str = Field(max_length=CODE_MAX_LENGTH, pattern=CODE_PATTERN, description="stable message code (the catalogue's id)")
    params: dict[str, Any] = Field(default_factory=dict, max_length=PARAMS_MAX, description="the values the text is written with")

    def text(self, locale: str = DEFAULT_LOCALE) -> str:
        return text(self.code, self.params, locale)


@lru_cache(maxsize=1)
def catalogues() -> dict[str, dict[str, str]]:
    """locale → {code: text}, every domain of that locale merged (codes are unique across domains)."""
    found: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        merged: dict[str, str] = {}
        for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
            for code, message in domain_messages(path).items():
                if code in merged:
                    raise ValueError(f"{path}: message id {code!r} is already in another domain of {locale}")
                merged[code] = message
        found[locale] = merged
    return found


def domain_messages(path: Path) -> dict[str, str]:
    """The {msgid: msgstr} of one .po file (fuzzy and empty entries left out)."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=path.parent.parent.name)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


def has(code: str, locale: str = DEFAULT_LOCALE) -> bool:
    return code in catalogues().get(locale, {})


def text(code: str, params: Mapping[str, Any] | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """The code's text in ``locale`` (then the default language, then the code itself) with ``params`` filled in.

    A parameter the text names but ``params`` lacks is written as ``{name}`` rather than failing: a text
    is for people and must always render, even for an event written by an older version."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    found = catalogues()
    template = found[locale].get(code) or found[DEFAULT_LOCALE].get(code)
    if template is None:
        return code if not params else f"{code} {dict(params)}"
    return _Formatter(locale).vformat(template, (), _Lenient(params or {}))


def text_or(code: str | None, params: Mapping[str, Any] | None, fallback: str, locale: str = DEFAULT_LOCALE) -> str:
    """The code's text when the catalogue has it and ``params`` has every value it names; else ``fallback``
    (the text an event was written with: events of an earlier format carry only that)."""
    if not code:
        return fallback
    found = catalogues()
    template = found.get(locale, {}).get(code) or found[DEFAULT_LOCALE].get(code)
    if template is None or not placeholders(template) <= set(params or {}):
        return fallback
    return text(code, params, locale)


def term(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """A domain term: itself in Chinese; in English the term with its translation beside it (``严重 (serious)``)."""
    word = str(value)
    if locale == ZH:
        return word
    translated = catalogues()[EN].get(f"term.{word}")
    return f"{word} ({translated})" if translated and translated != word else word


def local_date(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """``2023年6月1日`` in Chinese, ``2023-06-01`` in English; a value that is no ISO date is written as it is.
    An instant (a datetime, or an ISO timestamp with its offset) is written as its day in China."""
    day = _china_day(value) if isinstance(value, date) else _iso_date(value)
    if day is None:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日" if locale == ZH else day.isoformat()


def _china_day(value: date) -> date:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(CHINA).date()
    return value.date() if isinstance(value, datetime) else value


def _iso_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    if len(value) > 10 and value[10] in "T ":
        try:
            return _china_day(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


class _Lenient(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class _Formatter(string.Formatter):
    def __init__(self, locale: str) -> None:
        self.locale = locale

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        try:
            return super().get_field(field_name, args, kwargs)
        except (KeyError, AttributeError, IndexError, TypeError):
            return "{" + field_name + "}", field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "date":
            return local_date(value, self.locale)
        if format_spec == "term":
            return term(value, self.locale)
        if format_spec == "list":
            items = value if isinstance(value, (list, tuple)) else [value]
            return ("、" if self.locale == ZH else ", ").join(str(item) for item in items)
        if format_spec == "terms":
            items = value if isinstance(value, (list, tuple)) else [value]
            return ("、" if self.locale == ZH else ", ").join(term(item, self.locale) for item in items)
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


# --------------------------------------------------------------------------- which language a reader wants

_LANGUAGE_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*$")


def negotiate(accept_language: str | None) -> str:
    """The locale for an ``Accept-Language`` header (RFC 9110 §12.5.4): the highest-weighted range we
    have, Chinese when none is given, none matches or the header is malformed."""
    if not accept_language:
        return DEFAULT_LOCALE
    best, best_weight = DEFAULT_LOCALE, 0.0
    for position, part in enumerate(accept_language[:512].split(",")[:20]):
        matched = _LANGUAGE_RANGE.match(part)
        if not matched:
            continue
        weight = float(matched.group(2)) if matched.group(2) is not None else 1.0
        if weight > 1:  # no such weight (RFC 9110 §12.4.2: 0 to 1): the range is malformed
            continue
        locale = _locale_of(matched.group(1))
        if locale is not None and weight > best_weight:
            best, best_weight = locale, weight
    return best


def _locale_of(language: str) -> str | None:
    primary = language.split("-")[0].lower()
    if primary == "zh":
        return ZH
    if primary == "en":
        return EN
    return None


def cli_locale(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language, as gettext picks it: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``
    (the first one set); English for ``en*``, Chinese otherwise (also for ``C`` and ``POSIX``)."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            first = value.split(":")[0]
            return EN if first.lower().startswith("en") else ZH
    return DEFAULT_LOCALE


@lru_cache(maxsize=4096)
def placeholders(template: str) -> frozenset[str]:
    """The parameter names a text uses (``{factor}``, ``{day:date}`` → {"factor", "day"}); parsed once per text."""
    return frozenset(name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name)


def codes_in(texts: Iterable[str], prefixes: Iterable[str]) -> set[str]:
    """Message codes written as string literals in source texts, for the catalogue test."""
    alternatives = "|".join(re.escape(p) for p in prefixes)
    pattern = re.compile(r"""["']((?:%s)\.[a-z0-9_]+(?:\.[a-z0-9_\-]+)*)["']""" % alternatives)
    return {match.group(1) for source in texts for match in pattern.finditer(source)}


# --------------------------------------------------------------------------- the command line (ohs)


def cli_text(code: str, /, **params: Any) -> str:
    """``code``'s text in the command line's language (English under ``LANG=en_*``, Chinese otherwise)."""
    return text(code, params, cli_locale())


def cli_said(thing: Any) -> str:
    """A text from elsewhere in the command line's language: a message (``.text(locale)``), an error carrying a
    message ``code`` and ``params``, or else the text as given."""
    locale = cli_locale()
    if callable(getattr(thing, "text", None)):
        return str(thing.text(locale))
    return text_or(getattr(thing, "code", None), getattr(thing, "params", None) or {}, str(thing), locale)

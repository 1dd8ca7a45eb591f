"""The one catalogue (shared/i18n): every message in both languages, every code the code uses in it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from shared import i18n
from shared.contracts import TraceEntry
from shared.contracts.assessment import Flag

ROOT = Path(__file__).resolve().parents[3]
DOMAINS = sorted(p.stem for p in (i18n.LOCALES_DIR / i18n.ZH / "LC_MESSAGES").glob("*.po"))
# the first part of every message code; a string literal starting with one of these and a dot is a code
PREFIXES = ("assessment", "registry", "sampling", "penalty", "notification", "documents", "errors", "cli", "xlsx", "console", "monitoring")
HAN = re.compile(r"[\u3400-\u9fff]")


def test_every_domain_has_the_same_ids_in_both_languages_and_each_text_uses_the_same_values():
    assert "terms" in DOMAINS
    for domain in DOMAINS:
        zh = i18n.domain_messages(i18n.LOCALES_DIR / i18n.ZH / "LC_MESSAGES" / f"{domain}.po")
        en = i18n.domain_messages(i18n.LOCALES_DIR / i18n.EN / "LC_MESSAGES" / f"{domain}.po")
        assert zh and set(zh) == set(en), f"{domain}: ids only in zh {sorted(set(zh) - set(en))[:5]}, only in en {sorted(set(en) - set(zh))[:5]}"
        for code in zh:
            assert re.match(i18n.CODE_PATTERN, code) or code.startswith("term."), f"{domain}: {code!r} is no message code"
            assert i18n.placeholders(zh[code]) == i18n.placeholders(en[code]), f"{domain}: {code} names other values in zh and en"


def test_english_texts_have_no_chinese_beyond_the_terms_they_name():
    for code, message in i18n.catalogues()[i18n.EN].items():
        if code.startswith("term."):
            continue
        assert not HAN.search(message), f"{code}: Chinese in the English text {message!r} (name the term as {{name:term}})"


def test_every_code_the_code_uses_is_in_the_catalogue():
    sources = [p.read_text(encoding="utf-8") for folder in ("services", "shared") for p in (ROOT / folder).rglob("*.py")]
    used = i18n.codes_in(sources, PREFIXES)
    missing = sorted(code for code in used if not i18n.has(code, i18n.ZH) or not i18n.has(code, i18n.EN))
    assert not missing, f"codes used without a message in both languages: {missing[:20]}"


@pytest.mark.parametrize(("header", "locale"), [
    (None, "zh_CN"), ("", "zh_CN"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    ("fr, en;q=0.5", "en"), ("en;q=0.2, zh;q=0.9", "zh_CN"), ("de", "zh_CN"), ("*", "zh_CN"), ("en;q=x", "zh_CN"),
    ("\x00" * 2000, "zh_CN"), ("en;q=1.5", "zh_CN"), ("EN-gb", "en"), ("en-" + "a" * 5000, "zh_CN"),
])
def test_accept_language_picks_the_reader_language_chinese_when_unsure(header, locale):
    assert i18n.negotiate(header) == locale


@pytest.mark.parametrize(("environ", "locale"), [
    ({}, "zh_CN"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh_CN"), ({"LANG": "C.UTF-8"}, "zh_CN"),
    ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"), ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh_CN"),
])
def test_the_command_line_speaks_english_under_an_english_locale_only(environ, locale):
    assert i18n.cli_locale(environ) == locale


def test_terms_dates_and_lists_are_written_for_each_language():
    assert i18n.term("严重", "en") == "严重 (serious)" and i18n.term("严重", "zh_CN") == "严重"
    assert i18n.term("未收录的因素", "en") == "未收录的因素"  # no translation: the term as it is
    assert i18n.local_date("2023-06-01") == "2023年6月1日" and i18n.local_date(date(2023, 6, 1), "en") == "2023-06-01"
    assert i18n.local_date("not a date", "en") == "not a date"


def test_a_text_always_renders_even_for_an_unknown_code_or_a_missing_value():
    assert i18n.text("assessment.no_such_code", {"a": 1}) == "assessment.no_such_code {'a': 1}"
    some_code = next(code for code, message in i18n.catalogues()[i18n.ZH].items() if i18n.placeholders(message))
    assert "{" in i18n.text(some_code, {})  # the missing value shows as its name, nothing raises


def test_an_entry_of_an_earlier_event_renders_as_written_and_a_coded_one_in_either_language():
    old = TraceEntry.model_validate({"rule": "附件3", "detail": "Ⅲ × B → 丙"})  # today's recorded events: no code
    assert old.code is None and old.text("en") == old.text("zh_CN") == "Ⅲ × B → 丙"
    old_flag = Flag.model_validate({"code": "submission_late", "message": "report received 2026-11-30, 855 working days late"})
    assert old_flag.text("zh_CN") == old_flag.message  # its parameters are unknown: as written


def test_an_instant_is_written_as_its_day_in_china():
    from datetime import datetime, timezone

    assert i18n.local_date("2026-12-06T19:30:00+00:00") == "2026年12月7日"  # 03:30 on the 7th in China
    assert i18n.local_date(datetime(2026, 12, 6, 15, 59, tzinfo=timezone.utc), "en") == "2026-12-06"
    assert i18n.local_date("2026-12-06Z") == "2026年12月6日" and i18n.local_date("2026-12-06") == "2026年12月6日"

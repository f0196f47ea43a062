"""Dates and times as people write them in the reader's language (Babel's CLDR patterns): 2026年12月6日
17:05 on a Chinese document, Dec 6, 2026 17:05 on an English one; always in the mall's time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from services.common import i18n as vocabulary


def locale(language: str) -> str:
    """Babel's locale for one of our languages (zh-CN, zh, en …)."""
    return "en" if vocabulary.normalise(language) == "en" else "zh_CN"


def day(when: date, language: str) -> str:
    """2026年12月6日."""
    return format_skeleton("yMMMd", when, locale=locale(language))


def moment(when: datetime, zone: ZoneInfo, language: str) -> str:
    """An instant in the mall's zone, to the minute: 2026年12月6日 17:05."""
    found = locale(language)
    return f"{format_skeleton('yMMMd', when, tzinfo=zone, locale=found)} {format_skeleton('Hm', when, tzinfo=zone, locale=found)}"


def period_name(period: dict, language: str) -> str:
    """A report's period as people say it: 2026年12月, 2026年第49周 (`period` as reporting answers it:
    kind, label, first_day)."""
    first = date.fromisoformat(period["first_day"])
    if period["kind"] == "month":
        return format_skeleton("yMMMM", first, locale=locale(language))
    if period["kind"] == "week":
        year, number = period["label"].split("-W")
        return vocabulary.term("report", "week_label", language).format(year=year, week=int(number))
    return day(first, language)

"""The reports' words, dates and names, all from the mall's one vocabulary (services/common/i18n).

Reporting keeps no words of its own: a heading is `word("by_floor", lang)` (the catalogue's
``msgctxt "report"``), a category or channel is its term, a date is written as Babel writes it in the
reader's locale (2026年12月6日 17:05), and a floor, department or shop is named as the mall names it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_interval, format_skeleton
from babel.numbers import format_decimal

from services.common import i18n as vocabulary
from services.common.dates import day, locale

# The terms in the report's cells (categories, channels, queues, requests, statuses): the mall's one
# vocabulary, in the order a code is looked for there.
KINDS = ("category", "channel", "role", "request", "status")


def word(key: str, lang: str, **values: object) -> str:
    """A report's word or phrase (`word("so_far", "zh", day=…)` → 截至12月6日)."""
    text = vocabulary.term("report", key, lang)
    return text.format(**values) if values else text


def words(lang: str) -> dict[str, str]:
    """Every report word, by key."""
    return vocabulary.terms("report", lang)


def value(text: str | None, lang: str) -> str:
    """A category, channel, queue or customer request in words; anything unknown as it is."""
    if text is None:
        return "-"
    kind = next((kind for kind in KINDS if vocabulary.known(kind, text)), None)
    return vocabulary.term(kind, text, lang) if kind else text


def chosen(item: dict, lang: str) -> str:
    """A closing choice (a responsible party, a root cause) by the name its form gave it in the
    reader's language, else the name drawn in the diagram, else its code: the options are the
    designer's, not the vocabulary's."""
    names = item.get("names") or {}
    wanted = vocabulary.normalise(lang)
    given = next(
        (name for language, name in names.items() if language and vocabulary.normalise(language) == wanted),
        None,
    )
    return given or names.get("") or item["key"]


def yuan(text: str, lang: str) -> str:
    """An amount in yuan as the language writes numbers: 1,250.00."""
    return format_decimal(Decimal(text), "#,##0.00", locale=locale(lang))


def listed(names, lang: str) -> str:
    """Several names in one cell, as the language lists them (退款、道歉; refund, apology)."""
    return word("list_separator", lang).join(names)


def span(first: date, last: date, lang: str) -> str:
    """2026年12月1日 – 6日; one day as itself."""
    if first == last:
        return day(first, lang)
    return format_interval(first, last, "yMMMd", locale=locale(lang))


def short_span(first: date, last: date, lang: str) -> str:
    """12月1日 – 6日: a column's heading, the year being in the report's heading."""
    if first == last:
        return format_skeleton("MMMd", first, locale=locale(lang))
    return format_interval(first, last, "MMMd", locale=locale(lang))


def place(report: dict, kind: str, code: str | None, lang: str) -> str:
    """A floor or department (`kind` "floors" or "departments") by the mall's name: 三层, 保安部.

    The names come with the report (report["names"], the mall's reference data); a code the mall has
    no name for shows as it is, so nothing disappears."""
    if not code:
        return ""
    item = (report.get("names") or {}).get(kind, {}).get(code) or {}
    english = item.get("name_en") if vocabulary.normalise(lang) == "en" else None
    return english or item.get("name") or code


def shop(name: str | None, unit: str | None, code: str | None, lang: str) -> str:
    """A shop by its name and unit, 型男工坊（3F-005）, never the mall's internal merchant code alone."""
    shown = name or code or ""
    return shown + word("unit", lang, unit=unit) if unit else shown

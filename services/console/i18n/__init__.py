"""The console's two languages (zh-CN first, English) and dates in the mall's time zone.

The console's own words (its titles, buttons, hints) are the ``console`` domain of the mall's gettext
catalogues (services/common/i18n/locale/<lang>/LC_MESSAGES/console.po, read with Babel as the
vocabulary is), one entry per key (``msgid "nav.queue"``), the same keys in both languages (a unit
test holds them to it). A key missing from the reader's language reads in Chinese; missing from both,
it shows as itself, so a gap is visible, not silent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from functools import cache

from flask import current_app, session

from services.common import dates
from services.common import i18n as vocabulary
from services.common.identity.model import ROLES

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
DOMAIN = "console"
# The console's prefixes that are terms of the mall's one vocabulary (services/common/i18n): their
# names come from there, never from this console's own catalogues.
TERMS = {
    "category": "category",
    "channel": "channel",
    "reply": "reply_channel",
    "request": "request",
    "role": "role",
    "status": "status",
    "severity": "severity",
    "major_reason": "major_reason",
    "option": "outcome",
    "notice": "notice",  # a notice's kind (inbox, deliveries): the name notify's messages give it
}


@cache
def catalogue(language: str) -> dict[str, str]:
    """The console's words in a language, by key (read once, at first use)."""
    return {key: text for (_context, key), text in vocabulary.catalogue(DOMAIN, language).items()}


def language() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT


def translate(key: str, **values) -> str:
    text = catalogue(language()).get(key) or catalogue(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def named(names: dict | None, prefix: str, code: str | None, drawn: str | None = None) -> str:
    """What a diagram calls something (`names`: language -> name, "" for its name as drawn): the
    reader's language first; then this catalogue's name of the code (`prefix.code`, for diagrams that
    give no name in that language); then the name as drawn (or `drawn`); then the code."""
    names = names or {}
    return names.get(language()) or label(prefix, code, names.get("") or drawn)


def field_label(form: list[dict], field_id: str) -> str:
    """A task form's field as its diagram labels it in the reader's language (see `named`)."""
    item = next((each for each in form if each.get("id") == field_id), {})
    return named(item.get("labels"), "field", field_id, item.get("label"))


def option_label(form: list[dict], option_id: str) -> str:
    """An option of a task form's choice fields as its diagram names it in the reader's language."""
    for item in form:
        drawn = dict(map(tuple, item.get("options") or [])).get(option_id)
        if drawn is not None:
            given = (item.get("option_labels") or {}).get(language(), {}).get(option_id)
            return given or label("option", option_id, drawn)
    return label("option", option_id, option_id)


def said(text: str | None) -> str:
    """What a service or a gateway answered, in the reader's language where the catalogue knows it."""
    return vocabulary.message(text or "", language())


def label(prefix: str, value: str | None, fallback: str | None = None) -> str:
    """The name of a code (`category.price` → 价格); the fallback or the code itself when unknown."""
    if value is None or value == "":
        return translate("common.none")
    if prefix in TERMS and vocabulary.known(TERMS[prefix], value):
        return vocabulary.term(TERMS[prefix], value, language())
    key = f"{prefix}.{value}"
    found = catalogue(language()).get(key)
    if found is None and prefix == "field" and vocabulary.known("field", value):
        found = vocabulary.term("field", value, language())  # an API field the intake form names too
    return found if found is not None else (fallback or str(value))


def happening(entry: dict) -> str:
    """What a timeline line says happened: its kind's name; a message routing hands the case itself
    (`made_major`) by what it does (`kind.message_delivered.made_major`), not as a message received."""
    kind = entry.get("kind")
    name = (entry.get("detail") or {}).get("name") if kind == "message_delivered" else None
    own = catalogue(language()).get(f"kind.message_delivered.{name}") if name else None
    return own or label("kind", kind)


def role_names() -> dict[str, str]:
    """Every role's name in the reader's language, by code (a diagram's lanes are named by role code)."""
    return {str(role): label("role", str(role)) for role in sorted(ROLES)}


def diagram_words() -> dict[str, str]:
    """The console's names of a diagram's flow labels that are codes (a form's options), by code."""
    return vocabulary.terms("outcome", language())


def labels(prefix: str, values: Iterable[str] | None) -> str:
    """The names of several codes as the language lists them (赔偿、道歉; Compensation, Apology)."""
    if not values:
        return translate("common.none")
    return translate("common.list_separator").join(label(prefix, value) for value in values)


def _moment(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value


def format_datetime(value) -> str:
    """An instant as the mall writes it, in its time zone (MALL_TIME_ZONE): 2026年11月22日 10:00,
    Nov 22, 2026 10:00 — as on the printed form and the reports (services/common/dates.py)."""
    moment = _moment(value)
    if moment is None:
        return translate("common.none")
    return dates.moment(moment, current_app.extensions["console"].settings.zone, language())


def clauses(messages) -> str:
    """A field's messages in one sentence, each without its own full stop: 必填；不能为空 (a summary
    line then separates fields with its own "；", not "。；")."""
    return "；".join(str(message).rstrip("。.") for message in messages)


def file_size(size_bytes: int | None) -> str:
    """A file's size as people read it: 不足 1 KB, 850 KB, 2.4 MB (never "0 KB" for a small photo)."""
    size = size_bytes or 0
    if size < 1024:
        return translate("attachments.size_under_kb")
    if size < 1024 * 1024:
        return translate("attachments.size_kb", size=round(size / 1024))
    return translate("attachments.size_mb", size=f"{size / (1024 * 1024):.1f}".removesuffix(".0"))


def attachment_limit_mb() -> str:
    """The largest file the mall accepts, in MB as the setting gives it (ATTACHMENT_MAX_MB)."""
    limit = current_app.extensions["console"].settings.attachment_max_bytes / (1024 * 1024)
    return f"{limit:.1f}".removesuffix(".0")


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_day(value) -> bool:
    """A text holding a day as a form's date field stores it (2026-12-07): shown as a day, never as is."""
    return isinstance(value, str) and _ISO_DAY.match(value) is not None


def format_date(value) -> str:
    """A day as the mall writes it: 2026年11月22日, Nov 22, 2026. An instant (a complaint's receipt)
    is the day it was in the mall's time zone: 02:44 in Shanghai is already the next day in UTC's."""
    if value is None or value == "":
        return translate("common.none")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if is_day(value) else datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = _mall_day(value)
    return dates.day(value, language()) if isinstance(value, date) else str(value)


def _mall_day(moment: datetime) -> date:
    if moment.tzinfo is None:  # a wall-clock time as typed is the mall's already
        return moment.date()
    return moment.astimezone(current_app.extensions["console"].settings.zone).date()

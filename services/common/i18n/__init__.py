"""The mall's one vocabulary and the services' messages in the reader's language (Babel catalogues).

Gettext catalogues per language under ``locale/<lang>/LC_MESSAGES/``, read with Babel:

* ``vocabulary.po``: every term a person reads — categories, channels, reply channels, customer requests, roles,
  statuses, severities, task outcomes — one entry per term, its kind as the message context
  (``msgctxt "category"``, ``msgid "quality"``). The console, the public web form, the reports in
  every format and the notifications all name a term through :func:`term`, so it has one name.
  Floors, departments and shops are the mall's own reference data (intake keeps their names).
* ``messages.po`` (zh_CN): the services' error messages, marshmallow's among them, as patterns: a
  ``{name}`` in a msgid stands for any text and is carried into the translation.
* ``console.po``: the console's own words (titles, buttons, hints), one entry per key
  (``msgid "nav.queue"``), read through :func:`catalogue` by services/console/i18n.

English is the language the code is written in: a message with no entry stays as it is.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("zh-CN", "en")
DEFAULT = "zh-CN"
FOLDER = Path(__file__).resolve().parent / "locale"
KINDS = (
    "category",
    "channel",
    "reply_channel",
    "request",
    "role",
    "status",
    "severity",
    "major_reason",
    "outcome",
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def normalise(language: str | None) -> str:
    """ "zh", "zh-CN", "zh_CN", "zh-Hans-CN" → "zh-CN"; "en…" → "en"; anything else → the default."""
    text = (language or "").replace("_", "-").lower()
    return "en" if text.startswith("en") else DEFAULT


def negotiate(accept_language: str | None) -> str:
    """The caller's language from an Accept-Language header: the first of ours it names, by weight."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        name, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if name.lower().startswith(("zh", "en")) and weight > 0:
            ranked.append((-weight, position, normalise(name)))
    return min(ranked)[2] if ranked else DEFAULT


@cache
def _catalogue(domain: str, language: str) -> dict[tuple[str | None, str], str]:
    path = FOLDER / language.replace("-", "_") / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {
        (message.context, message.id): message.string for message in catalog if message.id and message.string
    }


def term(kind: str, code: str | None, language: str = DEFAULT) -> str:
    """A term's one name (`term("category", "quality")` → 商品质量/食品安全); an unknown code as it is."""
    if code is None or code == "":
        return ""
    return _catalogue("vocabulary", normalise(language)).get((kind, str(code))) or str(code)


def terms(kind: str, language: str = DEFAULT) -> dict[str, str]:
    """Every term of a kind, by code, in the catalogue's order."""
    return {
        code: text
        for (context, code), text in _catalogue("vocabulary", normalise(language)).items()
        if context == kind
    }


def known(kind: str, code: str | None) -> bool:
    return (kind, str(code)) in _catalogue("vocabulary", DEFAULT)


@cache
def _patterns(language: str) -> list[tuple[re.Pattern, str]]:
    found = []
    for (_context, msgid), text in _catalogue("messages", language).items():
        pieces = _PLACEHOLDER.split(msgid)
        pattern = "".join(
            re.escape(piece) if index % 2 == 0 else f"(?P<{piece}>.+?)" for index, piece in enumerate(pieces)
        )
        found.append((re.compile(f"^{pattern}$", re.DOTALL), text))
    # the longest literal text first: "no complaint {n}" before "no {what}"
    return sorted(found, key=lambda item: -len(_PLACEHOLDER.sub("", item[0].pattern)))


def message(text: str, language: str = DEFAULT, name=None) -> str:
    """A service's message in the reader's language. `name(placeholder, value)` may rename what a
    placeholder caught (a field's code → its form label); by default the value is quoted as it is."""
    found = translated(text, language, name)
    return text if found is None else found


def translated(text: str, language: str = DEFAULT, name=None) -> str | None:
    """`message`, or None when the catalogue has no wording for it in a language other than English
    (the caller then says what happened in words of its own rather than show the service's English)."""
    language = normalise(language)
    if language == "en" or not text:
        return text
    for pattern, translation in _patterns(language):
        match = pattern.match(text)
        if match:
            values = {key: _named(name, key, value, language) for key, value in match.groupdict().items()}
            return translation.format(**values)
    return None


def _named(name, key: str, value: str, language: str) -> str:
    if key == "why":  # a message of its own, whose quotes are its words' ('(' was never closed)
        return message(value, language)
    value = value.strip("'\"")
    if name is not None:
        renamed = name(key, value)
        if renamed is not None:
            return renamed
    if key in KINDS:
        return term(key, value, language)
    if key == "queue":  # each queue is a role's (PROCESS.md), and named as the role is
        return term("role", value, language)
    if key == "roles":
        return "、".join(term("role", each.strip(), language) for each in value.split(","))
    if key == "field":
        return term("field", value, language) if known("field", value) else value
    if key == "option":
        return term("outcome", value, language) if known("outcome", value) else value
    if key == "where":  # where in a JSON body: customer.name → 顾客·姓名
        return field_name(value, language)
    if key == "fields":
        return "、".join(field_name(each.strip(), language) for each in value.split(","))
    if key == "choices":  # the codes a field takes: each by its term where the vocabulary has one
        return "、".join(_choice(each.strip(" '\""), language) for each in value.split(","))
    return value


def _choice(code: str, language: str) -> str:
    """A code a field takes by its term (refund → 退款), when every kind that knows it names it
    alike (phone: the channel and the reply channel both 电话); as it is otherwise."""
    names = {term(kind, code, language) for kind in KINDS if known(kind, code)}
    return names.pop() if len(names) == 1 else code


def field_name(dotted: str, language: str = DEFAULT) -> str:
    """An API field as its form labels it (`customer.phone` → 顾客·电话); an unlabelled part as it is."""
    return "·".join(term("field", part, language) for part in dotted.split("."))


def messages(tree, language: str = DEFAULT, name=None):
    """Every message of marshmallow's error tree ({"json": {"customer": {"phone": [...]}}}) translated."""
    if isinstance(tree, dict):
        return {key: messages(value, language, name) for key, value in tree.items()}
    if isinstance(tree, list):
        return [messages(value, language, name) for value in tree]
    return message(tree, language, name) if isinstance(tree, str) else tree


def catalogue(domain: str, language: str = DEFAULT) -> dict[tuple[str | None, str], str]:
    """Every translated entry of a domain's catalogue (`console`: the console's own words), by
    (msgctxt, msgid); read once."""
    return _catalogue(domain, normalise(language))

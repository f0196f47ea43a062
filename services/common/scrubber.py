"""Personal data as staff who need not see it are shown it, in fields and inside free text.

One scrubber for every service: the same patterns find phone numbers, e-mail addresses, ID card
numbers and bank card numbers in what people type (a narrative, a resolution, a note), and the
case's own customer (name, phone, e-mail, address) wherever it is written. Each is then masked the
way intake masks the `customer` field (王**, 139****5678, w***@example.com) for staff who see the
customer masked, or replaced by a marker (retention's erasure, notify's logs).

Scrubbing happens on the way out: stored text stays as written, for the case's handlers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

# How contact details are shown to staff who need not see them in full: 王**, 139****5678, w***@example.com.


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return _keep_ends(phone.replace(" ", "").replace("-", ""), 3, 4)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) < head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


# Chinese text has no spaces, so only Latin letters, digits and a decimal point (or a dash, where a
# receipt number could go on) next to a number stop it from matching: dates (2026-11-25), times,
# amounts (399.00), receipt numbers (TS-20261122-0007) and shop codes (M-3F-001) never match.
_BEFORE, _AFTER = r"(?<![A-Za-z0-9.])", r"(?![A-Za-z0-9.])"
_DATE = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_PATTERNS = {
    # An id (a task's, a case's) is never personal data, but its groups of digits can read as a phone
    # or ID number ("04448216-8728-…", one id in about 800): taken first, whole, and left as it is.
    "uuid": r"(?<![0-9A-Za-z-])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![0-9A-Za-z-])",
    "email": r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
    # PRC resident ID: region, birth date, sequence, check digit (X); the old 15-digit one has a
    # two-digit year and no check digit. Groups may be split by a space or a dash.
    "id_card": rf"(?<![A-Za-z0-9.-])[1-9]\d{{5}}[ -]?(?:18|19|20)\d\d{_DATE}[ -]?\d{{3}}[0-9Xx](?![A-Za-z0-9.])"
    rf"|(?<![A-Za-z0-9.-])[1-9]\d{{5}}\d\d{_DATE}\d{{3}}{_AFTER}",
    # Bank cards: 16 to 19 digits, whole or in groups of four; only those passing the Luhn check.
    "bank_card": rf"(?<![A-Za-z0-9.-])(?:\d{{16,19}}|\d{{4}}(?:[ -]\d{{4}}){{3}}(?:[ -]\d{{1,3}})?){_AFTER}",
    # Mainland mobiles (with an optional +86), landlines with an area code, and 3-4-4 groups of digits,
    # as people write phone numbers, with dashes or spaces between the groups.
    "phone": rf"{_BEFORE}(?P<country>\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{{4}}){{2}}{_AFTER}"
    rf"|{_BEFORE}(?:\(0\d{{2,3}}\) ?|0\d{{2,3}}[- ]?)\d{{3,4}}[- ]?\d{{4}}{_AFTER}"
    rf"|(?<![A-Za-z0-9.-])\d{{3,4}} \d{{3,4}} \d{{4}}{_AFTER}",
}
# A surname with these is how staff write of a customer ("已致电王女士"): masked as the name is.
_HONORIFICS = ("女士", "先生", "小姐")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def customer_masks(*customers: Mapping[str, Any] | None) -> dict[str, str]:
    """What the customers' own details look like written (name, phone, e-mail, address; a Chinese
    name's surname with 女士/先生/小姐 too) -> how each is shown masked. Values of one character
    are left out: they would mask every word they appear in."""
    masks: dict[str, str] = {}
    for customer in customers:
        customer = customer or {}
        name, phone, email, address = (customer.get(key) for key in ("name", "phone", "email", "address"))
        if isinstance(name, str) and _CJK.match(name):
            masks.update({name[0] + word: mask_name(name[0] + word) for word in _HONORIFICS})
        for value, masked in (
            (name, mask_name(name)),
            (phone, mask_phone(phone)),
            (email, mask_email(email)),
            (address, "***"),
        ):
            if isinstance(value, str) and len(value.strip()) > 1:
                masks[value.strip()] = masked
    return masks


def scrub(text: str, known: Mapping[str, str] | None = None, marker: str | None = None) -> str:
    """The text with every personal datum in it masked (王**, 139****5678, w***@example.com,
    110***********123X, 6222********7890), or replaced by `marker` when one is given.

    `known`: the case's own details as written -> masked (`customer_masks`), found anywhere in the
    text first (a customer's foreign number or address has no pattern); then the patterns, which
    find nothing in what is already masked (its stars break every number and address).
    """
    if not text:
        return text
    if known:
        found = _known_pattern(tuple(sorted(known, key=len, reverse=True)))
        text = found.sub(lambda match: known[match.group()] if marker is None else marker, text)
    return _PATTERN.sub(lambda match: _replacement(match, marker), text)


def scrub_data(value: Any, known: Mapping[str, str] | None = None, marker: str | None = None) -> Any:
    """A copy of a JSON value with every string in it scrubbed; keys, numbers and booleans stay."""
    if isinstance(value, str):
        return scrub(value, known, marker)
    if isinstance(value, dict):
        return {key: scrub_data(item, known, marker) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_data(item, known, marker) for item in value]
    return value


# One alternation, so each part of the text is taken once, by the first kind that matches there
# (a bank card is not read again as a phone number). Compiled once: it takes ~2 ms.
_PATTERN = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _PATTERNS.items()))


@lru_cache(maxsize=1024)
def _known_pattern(known: tuple[str, ...]) -> re.Pattern[str]:
    """The customer's own values, longest first (a list of complaints asks for many customers)."""
    return re.compile("|".join(map(_literal, known)))


def _literal(value: str) -> str:
    """A known value as a pattern: a Latin name or number must not be part of a longer word."""
    escaped = re.escape(value)
    before = r"(?<![A-Za-z0-9])" if value[0].isascii() and value[0].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if value[-1].isascii() and value[-1].isalnum() else ""
    return before + escaped + after


def _replacement(match: re.Match[str], marker: str | None) -> str:
    kind, found = match.lastgroup, match.group()
    if kind == "uuid":
        return found
    if kind == "bank_card" and not _luhn(found):
        return found  # a long number of another kind (an order, a parcel)
    if marker is not None:
        return marker
    if kind == "email":
        return mask_email(found)
    if kind == "id_card":
        return _keep_ends(re.sub(r"[ -]", "", found), 3, 4)
    if kind == "bank_card":
        return _keep_ends(re.sub(r"[ -]", "", found), 4, 4)
    country = match.group("country") or ""
    return country + mask_phone(re.sub(r"[ ()-]", "", found[len(country) :]))


def _luhn(number: str) -> bool:
    digits = [int(digit) for digit in reversed(re.sub(r"\D", "", number))]
    total = sum(digits[0::2]) + sum(sum(divmod(digit * 2, 10)) for digit in digits[1::2])
    return total % 10 == 0

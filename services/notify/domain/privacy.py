"""Contact details out of free text: for events, for the retention policy, for masked views."""

from __future__ import annotations

import re
from typing import Any

_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(\.[\w\-]+)+")
# Phone numbers: a Chinese mobile (139 1234 5678, +86 …), a landline with its area code (021-12345678),
# or any run of 7 or more digits. Dates (2026-11-25) and amounts stay.
_PHONE = re.compile(
    r"(?<![\d\-])(?:(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d){8}|0\d{2,3}[\s\-]?\d{7,8}|\+?\d{7,})(?![\d\-])"
)
ERASED = "[erased]"


def scrub(text: str | None, *known: str | None) -> str | None:
    """The text with e-mail addresses, phone numbers and the given values replaced by `***`."""
    if not text:
        return text
    for value in known:
        if value:
            text = text.replace(value, "***")
    return _PHONE.sub("***", _EMAIL.sub("***", text))


def scrub_data(value: Any, *known: str | None) -> Any:
    """Every string inside a JSON value scrubbed (task data: replies, notes, free text)."""
    if isinstance(value, str):
        return scrub(value, *known)
    if isinstance(value, dict):
        return {key: scrub_data(item, *known) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_data(item, *known) for item in value]
    return value


def mask_address(channel: str, address: str | None) -> str | None:
    """An address as those who need not see it are shown it (`139****5678`, `w***@example.com`)."""
    if not address or channel in {"inbox", "webhook", "none"}:
        return address
    if channel == "email" and "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if channel == "sms":
        digits = re.sub(r"[\s\-]", "", address)
        return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:] if len(digits) >= 7 else "***"
    return "***"


def mask_name(name: str | None) -> str | None:
    return name[0] + "*" * max(len(name) - 1, 1) if name else name

"""Contact details out of free text and masked addresses, for events and masked views.

The patterns and masks are the ones every service uses (services/common/personal.py), so what notify
takes out of a text is what intake, routing and reporting take out too.
"""

from __future__ import annotations

from typing import Any

from services.common.personal import ERASED, mask_email, mask_name, mask_phone, scrub_text

__all__ = ["ERASED", "mask_address", "mask_name", "scrub", "scrub_data"]

HIDDEN = "***"


def scrub(text: str | None, *known: str | None) -> str | None:
    """The text with e-mail addresses, phone numbers and the given values replaced by `***`."""
    if not text:
        return text
    for value in known:
        if value:
            text = text.replace(value, HIDDEN)
    return scrub_text(text, HIDDEN)


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
        return mask_email(address)
    if channel == "sms":
        return mask_phone(address)
    return HIDDEN

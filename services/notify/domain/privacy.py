"""Contact details out of free text and masked addresses, for events and masked views.

The scrubber and masks are the ones every service uses (services/common/scrubber.py), so what notify
takes out of a text is what intake, routing and reporting take out too; notify puts `***` in their
place, where the others show a masked value.
"""

from __future__ import annotations

from typing import Any

from services.common.personal import ERASED
from services.common.scrubber import mask_email, mask_name, mask_phone
from services.common.scrubber import scrub as _scrub
from services.common.scrubber import scrub_data as _scrub_data

__all__ = ["ERASED", "mask_address", "mask_name", "scrub", "scrub_data"]

HIDDEN = "***"


def scrub(text: str | None, *known: str | None) -> str | None:
    """The text with phone numbers, e-mail addresses, ID and bank card numbers and the given values
    replaced by `***`."""
    return _scrub(text, _known(known), HIDDEN) if text else text


def scrub_data(value: Any, *known: str | None) -> Any:
    """Every string inside a JSON value scrubbed (task data: replies, notes, free text)."""
    return _scrub_data(value, _known(known), HIDDEN)


def _known(values: tuple[str | None, ...]) -> dict[str, str]:
    return {value: HIDDEN for value in values if value}


def mask_address(channel: str, address: str | None) -> str | None:
    """An address as those who need not see it are shown it (`139****5678`, `w***@example.com`)."""
    if not address or channel in {"inbox", "webhook", "none"}:
        return address
    if channel == "email" and "@" in address:
        return mask_email(address)
    if channel == "sms":
        return mask_phone(address)
    return HIDDEN

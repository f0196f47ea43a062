"""A complaint's receipt number (TS-20261122-0007) as staff type it into a search box."""

from __future__ import annotations

import re
from datetime import date, datetime

# The prefix, then the day and the day's sequence (four digits, more after the 9,999th of a day),
# each part optional in how it is separated: TS-20261208-0002, ts20261208-0002, 20261208 0002 …
_TYPED = re.compile(r"^(?:TS)?[\s-]*(\d{8})[\s-]*(\d{4,6})$", re.IGNORECASE)


def receipt_number(text: str) -> str | None:
    """The receipt number `text` names, as intake writes it (TS-20261208-0002), or None when it names
    none: the day must be a real one, so a phone number of twelve digits is not taken for a number."""
    found = _TYPED.match(text.strip())
    if found is None:
        return None
    try:
        day = datetime.strptime(found.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    return number_of(day, found.group(2))


def number_of(day: date, sequence: str) -> str:
    """The receipt number of the day's complaint `sequence` (digits as printed: 0002)."""
    return f"TS-{day:%Y%m%d}-{sequence}"

"""Plain values read from event data written by other services: tolerant, None when unreadable."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo


def moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        found = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return found if found is None or found.tzinfo else None


def day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if isinstance(value, str) else None
    except ValueError:
        return None


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """As the diagram writes a reply date: the last second of that day in the mall."""
    return datetime.combine(day, time.min, zone) + timedelta(days=1, seconds=-1)


def amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None and not isinstance(value, bool) else None
    except InvalidOperation:
        return None


def text(value: Any) -> str | None:
    return str(value) if value is not None else None


def codes(value: Any) -> tuple[str, ...]:
    """A list of codes, each once, in the order given. One code alone is a list of it: events published
    before a customer could ask for several things carry a single string (or null: nothing asked)."""
    listed = [value] if isinstance(value, str) else value
    if not isinstance(listed, list):
        return ()
    return tuple(dict.fromkeys(code for code in listed if isinstance(code, str) and code))

"""Report periods in the mall's own days: a day, an ISO week (2026-W48) or a month (2026-11)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadPeriod(ValueError):
    """The text names no week or month."""


# The days a report may be about: none of the mall's records is older, and the calendar arithmetic
# of a period (its end, the period before) stays far inside what `date` can hold (year 9999).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
OUTSIDE = "a day between 1970-01-01 and 2999-12-31"


def within(day: date, text: str) -> date:
    """`day`, if a report may be about it; BadPeriod otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadPeriod(f"{text} is not {OUTSIDE}")
    return day


@dataclass(frozen=True)
class Period:
    """Days first..last (inclusive) of the mall's calendar, labelled as people write them."""

    kind: str  # "day", "week" or "month"
    label: str
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range((self.last - self.first).days + 1)]

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as instants: midnight of the first day to midnight after the last, in the mall."""
        return datetime.combine(self.first, time.min, zone), datetime.combine(
            self.last + timedelta(days=1), time.min, zone
        )

    @property
    def complete(self) -> bool:
        """False for a period cut short by `so_far` (this month to today)."""
        return self.last == _whole(self.kind, self.first).last

    def so_far(self, today: date) -> Period:
        """The period up to `today` while it has not ended: 1–6 December on the 6th."""
        if self.first <= today < self.last:
            return replace(self, last=today)
        return self

    def previous(self) -> Period:
        """The period before, over the same span while this one is not over: 1–6 November beside
        1–6 December (never past its end: 1–30 November beside 1–31 December so far), the whole of
        January beside the whole of February."""
        before = _whole(self.kind, self.first - timedelta(days=7 if self.kind == "week" else 1))
        if self.complete:
            return before
        return replace(before, last=min(before.last, before.first + (self.last - self.first)))


def _whole(kind: str, day: date) -> Period:
    return {"week": week_of, "month": month_of}.get(kind, day_of)(day)


def day_of(day: date) -> Period:
    return Period("day", day.isoformat(), day, day)


def week_of(day: date) -> Period:
    year, week, weekday = day.isocalendar()
    first = day - timedelta(days=weekday - 1)
    return Period("week", f"{year}-W{week:02d}", first, first + timedelta(days=6))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", f"{first.year}-{first.month:02d}", first, following - timedelta(days=1))


def parse_week(text: str) -> Period:
    """`2026-W48` → Monday 2026-11-23 to Sunday 2026-11-29."""
    found = _WEEK.match(text)
    if not found:
        raise BadPeriod("expected an ISO week such as 2026-W48")
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError as exc:
        raise BadPeriod(f"{text} is not a week of that year") from exc
    return week_of(within(monday, text))


def parse_month(text: str) -> Period:
    """`2026-11` → 2026-11-01 to 2026-11-30."""
    found = _MONTH.match(text)
    if not found:
        raise BadPeriod("expected a month such as 2026-11")
    try:
        first = date(int(found[1]), int(found[2]), 1)
    except ValueError as exc:
        raise BadPeriod(f"{text} is not a month") from exc
    return month_of(within(first, text))


def current(kind: str, today: date) -> Period:
    """The period a report opens on: this week or this month so far, so a new mall sees its first days."""
    return _whole(kind, today).so_far(today)


def last_complete(kind: str, today: date) -> Period:
    """The last week or month that has ended: the callback list's month (last month's complainants)."""
    return _whole(kind, current(kind, today).first - timedelta(days=1))

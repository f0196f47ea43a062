"""When a message may go: quiet hours, retry backoff, the per-recipient rate limit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    """A daily stretch of the mall's local time in which customers are not messaged.

    `start` > `end` spans midnight (21:00-08:00); `None` means no quiet hours.
    """

    start: time | None = None
    end: time | None = None

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """`HH:MM-HH:MM`, or empty for none (the settings table has checked the shape)."""
        if not text:
            return cls()
        start, end = (time.fromisoformat(part) for part in text.split("-"))
        return cls(start, end)

    def contains(self, local: time) -> bool:
        if self.start is None or self.end is None or self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, at: datetime, zone: ZoneInfo) -> datetime:
        """`at`, or the end of the quiet hours it falls in (as an aware time in `at`'s zone)."""
        local = at.astimezone(zone)
        if not self.contains(local.time()):
            return at
        end_day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        return datetime.combine(end_day, self.end, zone).astimezone(at.tzinfo)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient errors, with a ±20% spread so retries do not come in herds."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8

    def gives_up_after(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts

    def delay(self, attempts_made: int, delivery_id: str) -> timedelta:
        """Wait before the next attempt, after `attempts_made` failed ones (1 → about `base`)."""
        exponent = max(attempts_made - 1, 0)
        nominal = min(self.base.total_seconds() * 2**exponent, self.cap.total_seconds())
        # The spread comes from the delivery id: the same delivery always waits the same, so tests
        # and logs can predict it; different deliveries spread out.
        digest = hashlib.sha256(f"{delivery_id}:{attempts_made}".encode()).digest()
        spread = 0.8 + 0.4 * (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF)
        return timedelta(seconds=min(nominal * spread, self.cap.total_seconds()))


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` messages to one address per `window`; more wait for room, none is dropped."""

    limit: int = 5
    window: timedelta = timedelta(hours=1)

    def next_free(self, now: datetime, recent: list[datetime]) -> datetime | None:
        """None when one more may go now; otherwise when the oldest of the window leaves it.

        `recent`: when each message to this address in the window was sent (or claimed).
        """
        if self.limit <= 0:
            return None
        in_window = sorted(moment for moment in recent if moment > now - self.window)
        if len(in_window) < self.limit:
            return None
        return in_window[len(in_window) - self.limit] + self.window

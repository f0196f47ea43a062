"""Wrong guesses on the customers' status page, per client address: after a few misses the address
waits before it may look again, and each further miss doubles the wait (up to an hour). The count
starts again only after a day without a miss. Kept in the database so every worker counts the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg


@dataclass(frozen=True)
class MissPolicy:
    free_misses: int = 5
    first_wait: timedelta = timedelta(minutes=1)
    longest_wait: timedelta = timedelta(hours=1)
    # Longer than the longest wait, so waiting it out does not start the count again.
    forget_after: timedelta = timedelta(hours=24)

    def wait_after(self, misses: int) -> timedelta | None:
        if misses < self.free_misses:
            return None
        return min(self.first_wait * 2 ** (misses - self.free_misses), self.longest_wait)


class Misses:
    def __init__(self, conn: psycopg.Connection, policy: MissPolicy):
        self.conn = conn
        self.policy = policy

    def blocked_until(self, mall_id: str, client: str, now: datetime) -> datetime | None:
        row = self.conn.execute(
            "SELECT blocked_until FROM intake.status_misses WHERE mall_id = %s AND client = %s",
            (mall_id, client),
        ).fetchone()
        until = row["blocked_until"] if row else None
        return until if until is not None and until > now else None

    def record(self, mall_id: str, client: str, now: datetime) -> None:
        """Count a miss; addresses quiet for a day are forgotten meanwhile (an address is personal data)."""
        self.conn.execute(
            "DELETE FROM intake.status_misses WHERE mall_id = %s AND last_miss_at < %s AND client <> %s"
            " AND (blocked_until IS NULL OR blocked_until < %s)",
            (mall_id, now - self.policy.forget_after, client, now),
        )
        row = self.conn.execute(
            "SELECT misses, last_miss_at FROM intake.status_misses WHERE mall_id = %s AND client = %s FOR UPDATE",
            (mall_id, client),
        ).fetchone()
        fresh = row is None or now - row["last_miss_at"] > self.policy.forget_after
        misses = 1 if fresh else row["misses"] + 1
        wait = self.policy.wait_after(misses)
        self.conn.execute(
            "INSERT INTO intake.status_misses (mall_id, client, misses, last_miss_at, blocked_until)"
            " VALUES (%(mall)s, %(client)s, %(misses)s, %(now)s, %(until)s)"
            " ON CONFLICT (mall_id, client) DO UPDATE SET misses = EXCLUDED.misses,"
            " last_miss_at = EXCLUDED.last_miss_at, blocked_until = EXCLUDED.blocked_until",
            {
                "mall": mall_id,
                "client": client,
                "misses": misses,
                "now": now,
                "until": now + wait if wait else None,
            },
        )

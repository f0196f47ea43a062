"""What the console's operators watch besides its HTTP latency: logins, and the staff logged in.

Login outcomes are counted as they happen (a rise in refusals is someone guessing passwords; the
login rate limit's refusals are the 429s of `mall_http_request_duration_seconds{route="/login"}` and
`{route="/api/token"}`).
The sessions open are read from `identity.sessions` when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.observability.collectors import LiveCollector

LOGINS = Counter(
    "mall_console_logins",
    "Password checks at the console's login (the page and POST /api/token), by outcome: success, "
    "refused (a wrong name or password), locked (the account is locked after repeated failures).",
    ["outcome"],
)

_OPEN = """
SELECT count(*) AS open
  FROM identity.sessions
 WHERE mall_id = %(mall)s AND user_id IS NOT NULL AND expires_at > %(now)s AND last_seen_at > %(idle_since)s
"""


class ConsoleSessions(LiveCollector):
    """Staff sessions that are logged in and neither expired nor idle past SESSION_IDLE_MINUTES."""

    name = "console"

    def __init__(self, pool: ConnectionPool, mall_id: str, clock: Clock, idle: timedelta):
        self.pool = pool
        self.mall_id = mall_id
        self.clock = clock
        self.idle = idle

    def measure(self) -> Iterable[Metric]:
        now = self.clock.now()
        with self.pool.connection(timeout=2) as conn:
            row = conn.execute(
                _OPEN, {"mall": self.mall_id, "now": now, "idle_since": now - self.idle}
            ).fetchone()
        sessions = GaugeMetricFamily("mall_console_sessions_open", "Staff logged in to the console now.")
        sessions.add_metric([], row["open"])
        return [sessions]

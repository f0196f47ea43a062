"""What operators watch of the complaint mailbox: messages kept by outcome, and whether it answers.

The counter is kept by the worker that reads; the mailbox's state is read from
`intake.mailbox_status` when Prometheus scrapes, so every intake process reports the same truth.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.observability.collectors import LiveCollector

MAILBOX_MESSAGES = Counter(
    "mall_mailbox_messages",
    "Messages read from the complaint mailbox, by outcome: draft, answer (to a case), set_aside "
    "(auto-reply or bounce), duplicate (read again after a stop between store and mark).",
    ["outcome"],
)


class MailboxState(LiveCollector):
    """Whether each mailbox answers, how many attempts in a row failed, and since when it is quiet."""

    name = "mailbox"

    def __init__(self, pool: ConnectionPool, mall_id: str, clock: Clock):
        self.pool = pool
        self.mall_id = mall_id
        self.clock = clock

    def measure(self) -> Iterable[Metric]:
        with self.pool.connection(timeout=2) as conn:
            rows = conn.execute(
                "SELECT * FROM intake.mailbox_status WHERE mall_id = %s", (self.mall_id,)
            ).fetchall()
        up = GaugeMetricFamily(
            "mall_mailbox_up", "1 while the worker is connected to the mailbox.", labels=["mailbox"]
        )
        failures = GaugeMetricFamily(
            "mall_mailbox_failures", "Failed attempts to reach the mailbox in a row.", labels=["mailbox"]
        )
        for row in rows:
            up.add_metric([row["mailbox"]], 1 if row["connected"] else 0)
            failures.add_metric([row["mailbox"]], row["failures"])
        return [up, failures]

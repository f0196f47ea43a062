"""What notify's operators watch: deliveries waiting, failed and sent, and how far behind the workers are.

Attempts are counted as the delivery workers make them. What waits and what failed is read from
notify's tables when Prometheus scrapes, so every notify process reports the same truth; both
queries take the partial indexes of `deliveries` (`deliveries_due`, `deliveries_failed`), never
the whole history of what was sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.observability.collectors import LiveCollector
from services.notify.domain.model import Channel

DELIVERY_ATTEMPTS = Counter(
    "mall_notify_delivery_attempts",
    "Attempts the delivery workers made, by channel and outcome: sent, transient (tried again later), "
    "permanent (failed), deferred (quiet hours or the recipient's rate limit), interrupted (a worker "
    "stopped between a send and its record: sent again).",
    ["channel", "outcome"],
)

# Channels that carry messages (NONE is the mark of a delivery that was never to be sent).
CHANNELS = sorted(channel.value for channel in Channel if channel is not Channel.NONE)

_WAITING = """
SELECT channel, state,
       count(*) AS deliveries,
       count(*) FILTER (WHERE next_attempt_at <= %(now)s) AS due,
       coalesce(extract(epoch FROM %(now)s - min(created_at)), 0) AS oldest_age,
       coalesce(extract(epoch FROM %(now)s - min(next_attempt_at) FILTER (WHERE next_attempt_at <= %(now)s)), 0)
           AS lag
  FROM notify.deliveries
 WHERE state IN ('pending', 'sending') AND mall_id = %(mall)s
 GROUP BY channel, state
"""

_FAILED = """
SELECT channel, count(*) AS deliveries
  FROM notify.deliveries
 WHERE state = 'failed' AND mall_id = %(mall)s
 GROUP BY channel
"""


class NotifyGauges(LiveCollector):
    """Deliveries pending, being sent and failed per channel; how old and how late the waiting ones are."""

    name = "notify"

    def __init__(self, pool: ConnectionPool, mall_id: str, clock: Clock):
        self.pool = pool
        self.mall_id = mall_id
        self.clock = clock

    def measure(self) -> Iterable[Metric]:
        parameters = {"now": self.clock.now(), "mall": self.mall_id}
        with self.pool.connection(timeout=2) as conn:
            waiting = conn.execute(_WAITING, parameters).fetchall()
            failed = {row["channel"]: row["deliveries"] for row in conn.execute(_FAILED, parameters)}
        channels = sorted(set(CHANNELS) | {row["channel"] for row in waiting} | set(failed))
        return [_counts(waiting, failed, channels), *_waiting(waiting, channels)]


def _counts(waiting: list[dict], failed: dict[str, int], channels: list[str]) -> Metric:
    family = GaugeMetricFamily(
        "mall_notify_deliveries",
        "Deliveries by channel and state: pending (waiting for their time: now, a retry, quiet hours), "
        "sending (taken by a worker), failed (given up: the desk was told).",
        labels=["channel", "state"],
    )
    counts = {(row["channel"], row["state"]): row["deliveries"] for row in waiting}
    for channel in channels:
        for state in ("pending", "sending"):
            family.add_metric([channel, state], counts.get((channel, state), 0))
        family.add_metric([channel, "failed"], failed.get(channel, 0))
    return family


def _waiting(waiting: list[dict], channels: list[str]) -> list[Metric]:
    due = GaugeMetricFamily(
        "mall_notify_deliveries_due",
        "Pending or sending deliveries whose time has come: what the workers should be sending now.",
        labels=["channel"],
    )
    oldest = GaugeMetricFamily(
        "mall_notify_oldest_pending_age_seconds",
        "Age of the oldest delivery not yet sent nor failed, retries and quiet hours included (0 when none).",
        labels=["channel"],
    )
    lag = GaugeMetricFamily(
        "mall_notify_delivery_lag_seconds",
        "How far past its time the oldest due delivery is (0 when none): the workers do not keep up.",
        labels=["channel"],
    )
    for channel in channels:
        rows = [row for row in waiting if row["channel"] == channel]
        due.add_metric([channel], sum(row["due"] for row in rows))
        oldest.add_metric([channel], max((float(row["oldest_age"]) for row in rows), default=0.0))
        lag.add_metric([channel], max((float(row["lag"]) for row in rows), default=0.0))
    return [due, oldest, lag]

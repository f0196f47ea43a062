"""What reporting's operators watch: how far behind the read model is, and whether retention keeps up.

Retention runs are counted as a reporting worker makes them. The rest is read from reporting's
tables when Prometheus scrapes, so every reporting process reports the same truth: the lag of the
newest event projected, the closed cases past the retention period whose personal data is still
kept (the job has not run, or failed), and the erasures a service was asked for and has not
confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg_pool import ConnectionPool

from services.common.bus.events import RETENTION_ERASURE_REQUESTED
from services.common.bus.topology import SUBSCRIPTIONS
from services.common.observability.collectors import LiveCollector
from services.reporting.service_layer.projection import Context

RETENTION_RUNS = Counter(
    "mall_reporting_retention_runs",
    "Runs of the retention job in this process, by outcome: erased (some cases were), nothing_due, "
    "skipped (another worker's job held the lock), failed (tried again at the next run).",
    ["outcome"],
)

# The services that answer a retention request: every consumer of `retention.erasure_requested`.
ANSWERING = sorted(
    queue.split(".")[0] for queue, types in SUBSCRIPTIONS.items() if RETENTION_ERASURE_REQUESTED in types
)
# How far back unanswered requests are counted (older ones are a matter for a person, not a gauge).
ANSWER_WINDOW = timedelta(days=30)

_NEWEST_EVENT = """
SELECT extract(epoch FROM stored_at - occurred_at) AS lag
  FROM reporting.events
 ORDER BY stored_at DESC
 LIMIT 1
"""

_DUE = """
SELECT count(*) AS due
  FROM reporting.cases
 WHERE mall_id = %(mall)s AND erased_at IS NULL AND closed_at IS NOT NULL AND closed_at < %(cutoff)s
"""

_UNANSWERED = """
SELECT s.service, count(*) AS waiting
  FROM reporting.retention_requests r
 CROSS JOIN unnest(r.complaint_ids) AS c (complaint_id)
 CROSS JOIN unnest(%(services)s::text[]) AS s (service)
 WHERE r.mall_id = %(mall)s AND r.requested_at > %(since)s
   AND NOT EXISTS (SELECT 1 FROM reporting.retention_answers a
                    WHERE a.service = s.service AND a.complaint_id = c.complaint_id)
 GROUP BY s.service
"""


class ReportingGauges(LiveCollector):
    """Projection lag, cases due for erasure, and erasures not yet confirmed per service."""

    name = "reporting"

    def __init__(self, pool: ConnectionPool, context: Context):
        self.pool = pool
        self.context = context

    def measure(self) -> Iterable[Metric]:
        from services.reporting.service_layer.retention import cutoff  # which counts these runs

        now, mall = self.context.clock.now(), self.context.mall_id
        parameters = {
            "mall": mall,
            "cutoff": cutoff(self.context)[1],
            "since": now - ANSWER_WINDOW,
            "services": ANSWERING,
        }
        with self.pool.connection(timeout=2) as conn:
            newest = conn.execute(_NEWEST_EVENT).fetchone()
            due = conn.execute(_DUE, parameters).fetchone()["due"]
            unanswered = {row["service"]: row["waiting"] for row in conn.execute(_UNANSWERED, parameters)}
        lag = GaugeMetricFamily(
            "mall_reporting_projection_lag_seconds",
            "For the newest event the read model took in, how long after it occurred (0 before any): "
            "how far behind its queue reporting was when it last projected.",
        )
        lag.add_metric([], max(float(newest["lag"]), 0.0) if newest else 0.0)
        waiting = GaugeMetricFamily(
            "mall_reporting_retention_due_cases",
            "Closed cases past the retention period whose personal data is still kept.",
        )
        waiting.add_metric([], due)
        answers = GaugeMetricFamily(
            "mall_reporting_retention_unanswered",
            "Complaints a service was asked to erase (in the last 30 days) and has not confirmed erasing.",
            labels=["service"],
        )
        for service in ANSWERING:
            answers.add_metric([service], unanswered.get(service, 0))
        return [lag, waiting, answers]

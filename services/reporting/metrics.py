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
from services.reporting.adapters.retention import RetentionLog
from services.reporting.service_layer.context import Context

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


class ReportingGauges(LiveCollector):
    """Projection lag, cases due for erasure, and erasures not yet confirmed per service."""

    name = "reporting"

    def __init__(self, pool: ConnectionPool, context: Context):
        self.pool = pool
        self.context = context

    def measure(self) -> Iterable[Metric]:
        from services.reporting.service_layer.retention import cutoff  # which counts these runs

        now, mall = self.context.clock.now(), self.context.mall_id
        with self.pool.connection(timeout=2) as conn:
            retention = RetentionLog(conn)
            lag = retention.projection_lag()
            due = retention.due(mall, cutoff(self.context)[1])
            unanswered = retention.unanswered(mall, now - ANSWER_WINDOW, ANSWERING)
        lagging = GaugeMetricFamily(
            "mall_reporting_projection_lag_seconds",
            "For the newest event the read model took in, how long after it occurred (0 before any): "
            "how far behind its queue reporting was when it last projected.",
        )
        lagging.add_metric([], max(lag, 0.0) if lag is not None else 0.0)
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
        return [lagging, waiting, answers]

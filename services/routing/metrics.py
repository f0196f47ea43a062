"""What routing's operators watch: engine step time, timer lag, tasks open and overdue by queue, and
cases stopped by an incident.

Step time and how late a timer fired are observed as they happen; the task counts and the timers
still waiting past their due time are read from routing's tables when Prometheus scrapes.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.observability.collectors import LiveCollector
from services.common.observability.metrics import FAST_BUCKETS, LAG_BUCKETS

ENGINE_STEP_SECONDS = Histogram(
    "mall_routing_engine_step_seconds",
    "Time the engine spent on one step of a case (restore, advance, mirror tasks, save), by kind of step.",
    ["step"],
    buckets=FAST_BUCKETS,
)
TIMER_DELAY_SECONDS = Histogram(
    "mall_routing_timer_delay_seconds",
    "How long after its due time a case's timer fired.",
    buckets=LAG_BUCKETS,
)

_TASKS = """
SELECT queue,
       count(*) AS open,
       count(*) FILTER (WHERE due_at < %(now)s) AS overdue
  FROM routing.tasks
 WHERE mall_id = %(mall)s AND state IN ('open', 'claimed')
 GROUP BY queue
"""

_TIMERS = """
SELECT count(*) AS due,
       coalesce(extract(epoch FROM %(now)s - min(next_due_at)), 0) AS lag
  FROM routing.cases
 WHERE mall_id = %(mall)s AND status = 'running' AND next_due_at <= %(now)s
"""

# Cases stopped by an incident, and how long the oldest has waited for a repair (retry, or a move to
# a fixed version): nothing else moves them, and their customers wait.
_STOPPED = """
SELECT count(*) AS stopped,
       coalesce(extract(epoch FROM %(now)s - min(i.at)), 0) AS age
  FROM routing.cases c
  JOIN routing.incidents i ON i.case_id = c.id AND i.resolved_at IS NULL
 WHERE c.mall_id = %(mall)s AND c.status = 'incident'
"""


class RoutingGauges(LiveCollector):
    """Tasks open and overdue per queue; timers due but not yet fired, and how late the oldest is;
    cases stopped by an incident, and how long the oldest has been."""

    name = "routing"

    def __init__(self, pool: ConnectionPool, mall_id: str, clock: Clock, queues: Iterable[str]):
        self.pool = pool
        self.mall_id = mall_id
        self.clock = clock
        self.queues = sorted(queues)  # every queue is reported, an empty one as 0

    def measure(self) -> Iterable[Metric]:
        parameters = {"now": self.clock.now(), "mall": self.mall_id}
        with self.pool.connection(timeout=2) as conn:
            tasks = {row["queue"]: row for row in conn.execute(_TASKS, parameters).fetchall()}
            timers = conn.execute(_TIMERS, parameters).fetchone()
            stopped = conn.execute(_STOPPED, parameters).fetchone()
        open_ = GaugeMetricFamily(
            "mall_routing_tasks_open", "Tasks open or claimed, by queue.", labels=["queue"]
        )
        overdue = GaugeMetricFamily(
            "mall_routing_tasks_overdue",
            "Open or claimed tasks past their due time, by queue.",
            labels=["queue"],
        )
        for queue in sorted(set(self.queues) | set(tasks)):
            row = tasks.get(queue, {"open": 0, "overdue": 0})
            open_.add_metric([queue], row["open"])
            overdue.add_metric([queue], row["overdue"])
        due = GaugeMetricFamily(
            "mall_routing_timers_due", "Running cases whose timer is due but not yet fired."
        )
        due.add_metric([], timers["due"])
        lag = GaugeMetricFamily(
            "mall_routing_timer_lag_seconds",
            "How far past its due time the oldest unfired timer is (0 when none).",
        )
        lag.add_metric([], float(timers["lag"]))
        return [open_, overdue, due, lag, *_stopped_cases(stopped)]


def _stopped_cases(row: dict) -> list[Metric]:
    count = GaugeMetricFamily(
        "mall_routing_cases_stopped",
        "Cases stopped by an incident, waiting for a retry or a move to a fixed version (/incidents).",
    )
    count.add_metric([], row["stopped"])
    age = GaugeMetricFamily(
        "mall_routing_oldest_incident_age_seconds",
        "How long the oldest case stopped by an incident has waited (0 when none).",
    )
    age.add_metric([], float(row["age"]))
    return [count, age]

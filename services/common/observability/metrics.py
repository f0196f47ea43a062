"""The counters and histograms every service shares, declared once (prometheus_client's registry).

Declaring a metric connects nothing; values live in this process (or, with PROMETHEUS_MULTIPROC_DIR
set, in files that every gunicorn worker of one container shares). Labels stay few and bounded:
a route's rule, never its URL; an event type, never an id.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds from a fraction of a millisecond to a minute: requests, handlers and engine steps.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Seconds from a tenth of a second to a day: how late an event or a timer is handled.
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, 86400.0)

HTTP_REQUEST_SECONDS = Histogram(
    "mall_http_request_duration_seconds",
    "Time to answer an HTTP request, by service, method, route rule and status code.",
    ["service", "method", "route", "status"],
    buckets=FAST_BUCKETS,
)

EVENTS_PUBLISHED = Counter(
    "mall_events_published",
    "Events the outbox relay published to the broker (confirmed) and marked sent.",
    ["service", "type"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "mall_outbox_publish_failures",
    "Outbox rows whose publish failed; the row stays and is tried again.",
    ["service"],
)

EVENTS_CONSUMED = Counter(
    "mall_events_consumed",
    "Messages a consumer finished with, by outcome: handled, duplicate, ignored, requeued "
    "(database down, not counted as a retry), retried, dead_lettered, rejected (a command refused "
    "and answered).",
    ["consumer", "type", "outcome"],
)
EVENT_HANDLE_SECONDS = Histogram(
    "mall_event_handle_seconds",
    "Time a consumer spent applying one message (its transaction included).",
    ["consumer"],
    buckets=FAST_BUCKETS,
)
EVENT_LAG_SECONDS = Histogram(
    "mall_event_lag_seconds",
    "From an event's occurred_at to the moment a consumer handled it: how far behind the queue is.",
    ["consumer"],
    buckets=LAG_BUCKETS,
)

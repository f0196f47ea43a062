"""What reporting reports to Prometheus: how far behind the read model is, the cases retention has to
erase and the erasures the services have not confirmed (read at each scrape), and the retention runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from services.common.observability.exposition import render
from services.reporting.metrics import ReportingGauges
from services.reporting.service_layer.retention import RetentionScheduler
from tests.integration.reporting.test_retention import mall  # noqa: F401 — the fixture
from tests.integration.routing.conftest import routing  # noqa: F401 — the fixture
from tests.support.deployment import sample
from tests.support.stories import Story, events


def scrape(reporting) -> str:
    return render([ReportingGauges(reporting.pool, reporting.context)])[0].decode()


def runs(outcome: str) -> float:
    return REGISTRY.get_sample_value("mall_reporting_retention_runs_total", {"outcome": outcome}) or 0.0


def test_the_projection_lag_is_how_long_after_it_occurred_the_newest_event_was_taken_in(reporting, feed):
    empty = scrape(reporting)
    story = Story(received_at=datetime.now(UTC) - timedelta(seconds=42))

    feed(events(story))
    lag = sample(scrape(reporting), "mall_reporting_projection_lag_seconds")

    assert sample(empty, "mall_reporting_projection_lag_seconds") == 0
    assert 42 <= lag < 60
    assert sample(empty, "mall_collector_up", collector="reporting") == 1


def test_retention_due_cases_and_unconfirmed_erasures_show_until_every_service_has_answered(
    mall,  # noqa: F811
    reporting,
    clock,
):
    mall.record(closed=True)
    clock.advance(timedelta(days=731))
    scheduler = RetentionScheduler(reporting.bus, 3600)
    erased, nothing = runs("erased"), runs("nothing_due")

    due = scrape(reporting)
    assert scheduler.run_once() == "erased"
    asked = scrape(reporting)
    mall.pump.run()  # intake, routing and notify answer
    answered = scrape(reporting)
    assert scheduler.run_once() == "nothing_due"

    assert sample(due, "mall_reporting_retention_due_cases") == 1
    assert sample(asked, "mall_reporting_retention_due_cases") == 0
    for service in ("intake", "notify", "routing"):
        assert sample(asked, "mall_reporting_retention_unanswered", service=service) == 1
    for service in ("intake", "notify", "routing"):
        assert sample(answered, "mall_reporting_retention_unanswered", service=service) == 0
    assert (runs("erased") - erased, runs("nothing_due") - nothing) == (1, 1)

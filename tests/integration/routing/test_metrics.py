"""What routing reports to Prometheus: tasks open and overdue by queue, timer lag, engine step time."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from services.common.observability.exposition import render
from services.routing.domain.model import QUEUES
from tests.integration.routing.conftest import POLICY, deploy
from tests.support.deployment import sample


def scrape(routing) -> str:
    return render(routing.collectors())[0].decode()


def count(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_tasks_open_and_overdue_are_reported_per_queue_every_queue_included(routing, start, clock):
    deploy(routing)
    start(), start(), start()

    before = scrape(routing)
    clock.advance(timedelta(hours=25))  # past the floor supervisor's 24 h, before the timer fires
    after = scrape(routing)

    assert sample(before, "mall_routing_tasks_open", queue="floor_supervisor") == 3
    assert sample(before, "mall_routing_tasks_overdue", queue="floor_supervisor") == 0
    assert sample(after, "mall_routing_tasks_overdue", queue="floor_supervisor") == 3
    for queue in QUEUES:
        assert f'mall_routing_tasks_open{{queue="{queue}"}}' in before
    assert sample(after, "mall_collector_up", collector="routing") == 1


def test_timers_due_but_not_fired_show_as_lag_and_firing_observes_how_late(routing, start, clock):
    deploy(routing)
    start(), start()
    fired_before = count("mall_routing_timer_delay_seconds_count")
    steps_before = count("mall_routing_engine_step_seconds_count", step="timer")

    clock.advance(timedelta(hours=24, minutes=10))  # the handler's 24 h ran out ten minutes ago
    behind = scrape(routing)
    routing.scheduler().tick()
    caught_up = scrape(routing)

    assert sample(behind, "mall_routing_timers_due") == 2
    assert 590 <= sample(behind, "mall_routing_timer_lag_seconds") <= 610
    assert sample(caught_up, "mall_routing_timers_due") == 0
    assert sample(caught_up, "mall_routing_timer_lag_seconds") == 0
    assert count("mall_routing_timer_delay_seconds_count") - fired_before == 2
    assert count("mall_routing_engine_step_seconds_count", step="timer") - steps_before == 2


def test_a_scheduler_asked_to_stop_takes_no_further_case(routing, start, clock):
    deploy(routing)
    start(), start()
    clock.advance(timedelta(days=2))
    stopping = routing.scheduler()

    stopping.stop()

    assert stopping.tick() == 0
    assert routing.scheduler().tick() == 2  # the due cases were left for the next worker


def test_a_scrape_still_answers_when_the_database_does_not(routing):
    routing.pool.close()

    exposition = scrape(routing)

    assert sample(exposition, "mall_collector_up", collector="routing") == 0
    assert (
        sample(exposition, "mall_collector_up", collector="queues:routing") == 1
    )  # memory broker: nothing to ask


def test_cases_stopped_by_an_incident_are_counted_with_how_long_the_oldest_has_waited(routing, start, clock):
    deploy(routing)
    start(policy={key: value for key, value in POLICY.items() if key != "handler_acts_within_seconds"})
    start(number="TS-20261122-0002")  # a healthy one

    clock.advance(timedelta(hours=2))
    scraped = scrape(routing)

    assert sample(scraped, "mall_routing_cases_stopped") == 1
    assert sample(scraped, "mall_routing_oldest_incident_age_seconds") == 7200

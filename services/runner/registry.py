"""The services this repository ships, and how to build each one's HTTP app and relay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask

from services.common.clock import Clock
from services.common.settings import Settings


class Worker(Protocol):
    """A background loop of a service (consumer, scheduler, relay): run() blocks until stop()."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    schemas: tuple[str, ...]
    build: Callable[[Settings, Any, Clock | None], Any]
    create_app: Callable[[Any], Flask]
    workers: Callable[[Any], list[Worker]] = lambda runtime: []  # besides the outbox relay
    # Scrape-time metrics of the service (outbox backlog by default; see services/common/observability).
    collectors: Callable[[Any], list] = lambda runtime: [outbox_backlog(runtime)]
    # Work done once in the background after a start, before the first request needs it.
    warm_up: Callable[[Any], None] = lambda runtime: None


def outbox_backlog(runtime):
    """How many of the service's events wait in its outbox, and for how long."""
    from services.common.observability.collectors import OutboxBacklog

    return OutboxBacklog(runtime.pool, runtime.outbox.schema)


def _intake() -> ServiceSpec:
    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    return ServiceSpec(
        "intake",
        ("identity", "intake"),
        bootstrap,
        create_app,
        lambda intake: [ConsumerWorker(intake.consumer()), *intake.mail_workers()],
        lambda intake: [outbox_backlog(intake), intake.queue_depth(), intake.mailbox_state()],
    )


def mailbox_spec() -> ServiceSpec:
    """Intake's mailbox worker as a process of its own (`mailbox`): no API, no relay, no consumer."""
    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    return ServiceSpec(
        "intake-mailbox",
        ("identity", "intake"),
        bootstrap,
        create_app,
        lambda intake: intake.mail_workers(),
        lambda intake: [intake.mailbox_state()],
    )


def _routing() -> ServiceSpec:
    from services.routing.app import create_app
    from services.routing.bootstrap import bootstrap

    return ServiceSpec(
        "routing",
        ("identity", "routing"),
        bootstrap,
        create_app,
        lambda routing: [
            ConsumerWorker(routing.consumer()),
            ConsumerWorker(routing.command_consumer()),
            routing.scheduler(),
        ],
        lambda routing: [outbox_backlog(routing), *routing.collectors()],
        lambda routing: routing.warm_up(),
    )


def _console() -> ServiceSpec:
    from services.console.app import create_app
    from services.console.bootstrap import SessionPurger, bootstrap

    return ServiceSpec(
        "console",
        ("identity",),
        bootstrap,
        create_app,
        lambda console: [SessionPurger(console)],
        lambda console: [console.sessions_open()],  # no outbox: the console only calls the services' APIs
    )


def _notify() -> ServiceSpec:
    from services.notify.app import create_app
    from services.notify.bootstrap import announce_fallbacks, bootstrap

    def workers(notify) -> list[Worker]:
        announce_fallbacks(notify.settings)
        return [ConsumerWorker(notify.consumer()), *notify.workers()]

    return ServiceSpec(
        "notify",
        ("identity", "notify"),
        bootstrap,
        create_app,
        workers,
        lambda notify: [outbox_backlog(notify), *notify.collectors()],
    )


def _reporting() -> ServiceSpec:
    from services.reporting.app import create_app
    from services.reporting.bootstrap import bootstrap

    return ServiceSpec(
        "reporting",
        ("identity", "reporting"),
        bootstrap,
        create_app,
        lambda reporting: [ConsumerWorker(reporting.consumer()), reporting.retention_scheduler()],
        lambda reporting: [outbox_backlog(reporting), *reporting.collectors()],
    )


class ConsumerWorker:
    """An EventConsumer as a Worker: stop() lets it finish the message in hand."""

    def __init__(self, consumer):
        self.consumer = consumer
        self.name = consumer.name

    def run(self) -> None:
        self.consumer.run()

    def stop(self) -> None:
        self.consumer.should_stop = True

    def is_ready(self) -> bool:
        return self.consumer.ready.is_set()


# Later services add themselves here; the all-in-one run mounts each at /<name>.
SERVICES: dict[str, Callable[[], ServiceSpec]] = {
    "intake": _intake,
    "routing": _routing,
    "notify": _notify,
    "reporting": _reporting,
}
SERVICES["console"] = _console  # the staff console: pages at /console, login, user administration


def spec(name: str) -> ServiceSpec:
    return SERVICES[name]()


def all_schemas() -> list[str]:
    schemas: list[str] = []
    for name in SERVICES:
        schemas += [schema for schema in spec(name).schemas if schema not in schemas]
    return schemas

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


def _intake() -> ServiceSpec:
    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    return ServiceSpec(
        "intake",
        ("identity", "intake"),
        bootstrap,
        create_app,
        lambda intake: [ConsumerWorker(intake.consumer())],
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
    )


class ConsumerWorker:
    """An EventConsumer as a Worker: stop() lets it finish the message in hand."""

    def __init__(self, consumer):
        self.consumer = consumer

    def run(self) -> None:
        self.consumer.run()

    def stop(self) -> None:
        self.consumer.should_stop = True


# Later services add themselves here; the all-in-one run mounts each at /<name>.
SERVICES: dict[str, Callable[[], ServiceSpec]] = {
    "intake": _intake,
    "routing": _routing,
    "reporting": _reporting,
}


def spec(name: str) -> ServiceSpec:
    return SERVICES[name]()


def all_schemas() -> list[str]:
    schemas: list[str] = []
    for name in SERVICES:
        schemas += [schema for schema in spec(name).schemas if schema not in schemas]
    return schemas

"""The services this repository ships, and how to build each one's HTTP app and relay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from services.common.clock import Clock
from services.common.settings import Settings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    schemas: tuple[str, ...]
    build: Callable[[Settings, Any, Clock | None], Any]
    create_app: Callable[[Any], Flask]


def _intake() -> ServiceSpec:
    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    return ServiceSpec("intake", ("identity", "intake"), bootstrap, create_app)


# Later services add themselves here; the all-in-one run mounts each at /<name>.
SERVICES: dict[str, Callable[[], ServiceSpec]] = {"intake": _intake}


def spec(name: str) -> ServiceSpec:
    return SERVICES[name]()


def all_schemas() -> list[str]:
    schemas: list[str] = []
    for name in SERVICES:
        schemas += [schema for schema in spec(name).schemas if schema not in schemas]
    return schemas

"""Routing in-process on a test database of its own, with the test diagrams of tests/data/routing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import COMPLAINT_RECEIVED
from services.common.settings import Policy
from services.intake import bootstrap as intake_bootstrap
from services.intake.app import create_app as create_intake_app
from services.intake.seed import load_reference
from services.routing.app import create_app
from services.routing.bootstrap import Routing, bootstrap
from services.routing.domain.commands import DeployProcess
from services.routing.service_layer import handlers
from services.runner.background import Background
from services.runner.registry import ConsumerWorker
from tests.conftest import MALL, bearer
from tests.support.mall import Mall, purge
from tests.support.waiting import eventually

DIAGRAMS = Path(__file__).resolve().parents[2] / "data" / "routing"
POLICY = Policy(handler_acts_within=timedelta(hours=24), callback_from=timedelta(hours=24)).as_workflow_data()


def diagram(name: str) -> str:
    return (DIAGRAMS / name).read_text(encoding="utf-8")


def sabotaged(script: str) -> str:
    """bad_script_import.bpmn with its `sneaky` script task running `script` only for data the proof's
    probes never carry (a shop's complaint naming no shop), so the version deploys and a real case
    then meets the script: what a script failing on data nobody tried does."""
    indented = "\n".join("    " + line for line in script.splitlines())
    guarded = f'if complaint.get("merchant") is None and complaint.get("category") == "merchant_service":\n{indented}'
    return diagram("bad_script_import.bpmn").replace('import os\nos.system("id")', guarded)


def deploy(routing: Routing, bpmn: str = "complaint_v1.bpmn", dmn=("triage_v1.dmn",)):
    command = DeployProcess(diagram(bpmn), {name: diagram(name) for name in dmn}, "designer", None, bpmn)
    version = routing.bus.handle(command).version
    return version


def received(number: str = "TS-20261122-0001", **complaint) -> Envelope:
    """A complaint.received event as intake publishes it."""
    complaint_id = str(uuid.uuid4())
    payload = {
        "id": complaint_id,
        "number": number,
        "channel": "phone",
        "category": "merchant_service",
        "severity": "normal",
        "major_reasons": [],
        "status": "received",
        "customer": {"name": "王女士"},
        "received_at": "2026-11-22T02:00:00+00:00",
        "floor": "3F",
        "merchant": None,
        "department": None,
        "description": "店员态度恶劣",
        "promised_reply_date": "2026-11-25",
        "policy": POLICY,
        **complaint,
    }
    return Envelope(
        type=COMPLAINT_RECEIVED,
        mall_id="demo",
        complaint_id=complaint_id,
        actor=Actor("desk", "service_desk"),
        occurred_at=datetime(2026, 11, 22, 2, tzinfo=UTC),
        payload=payload,
    )


@pytest.fixture
def routing(settings, clock) -> Iterator[Routing]:
    runtime = bootstrap(settings, clock=clock)
    runtime.pool.open(wait=True)
    yield runtime
    runtime.pool.close()


@pytest.fixture
def start(routing):
    """Start a case the way the consumer does; returns the case id."""

    def start_case(**complaint) -> str:
        envelope = received(**complaint)
        handlers.start_case(envelope, routing.uow(), routing.context)
        return envelope.complaint_id

    return start_case


@pytest.fixture
def api(routing):
    return create_app(routing).test_client()


@pytest.fixture
def staff(tokens):
    """Bearer headers for each role: staff("floor_supervisor", floors=["3F"])."""

    def headers(role: str, **scope) -> dict:
        return bearer(tokens, role, subject=f"{role}-1", **scope)

    return headers


def open_tasks(routing: Routing, case_id: str) -> list[str]:
    with routing.uow() as uow:
        return [task.element_id for task in uow.tasks.open_for_case(case_id)]


def task_id(routing: Routing, case_id: str, element: str) -> str:
    with routing.uow() as uow:
        return next(task.id for task in uow.tasks.open_for_case(case_id) if task.element_id == element)


@pytest.fixture
def policy() -> Policy:
    """The mall's policy in a scenario; a test changes it with @pytest.mark.parametrize("policy", …)."""
    return Policy()


@pytest.fixture
def mall(settings, policy, clock, tokens) -> Iterator[Mall]:
    """Intake and routing on this test's database, wired as the one-process run wires them: intake's
    outbox relay and routing's complaint consumer in threads, over the in-memory broker; bpmn/ deployed."""
    yield from running_mall(settings, policy, clock, tokens)


def running_mall(settings, policy, clock, tokens, deployment: dict | None = None) -> Iterator[Mall]:
    """The `mall` fixture's mall, with `deployment` (a POST /processes body) deployed instead of bpmn/."""
    settings = replace(settings, policy=policy)
    intake = intake_bootstrap.bootstrap(settings, clock=clock)
    intake.pool.open(wait=True)
    load_reference(intake.pool, MALL)
    routing = bootstrap(settings, clock=clock)
    routing.pool.open(wait=True)
    consumer = routing.consumer()
    purge(consumer.connection, consumer)
    workers = Background([intake.relay(), ConsumerWorker(consumer)]).start()
    try:
        eventually(consumer.ready.is_set, timeout=30)
        driver = Mall(
            create_intake_app(intake).test_client(),
            create_app(routing).test_client(),
            routing,
            clock,
            tokens,
            bearer,
        )
        driver.deploy(deployment)
        yield driver
    finally:
        workers.stop()
        routing.pool.close()
        intake.pool.close()

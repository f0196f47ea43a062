"""What storing a case's state costs on the shipped diagram: the engine's dump and restore.

    .venv/bin/python bench/engine_dump.py                 # bpmn/complaint.bpmn, 5 rounds of 200
    .venv/bin/python bench/engine_dump.py --rounds 9 --ops 500

A complaint is started on the diagram and run to its first task (the state most steps store),
then, in interleaved rounds: the library's own conversion of the workflow with its specs (what the
engine did before: convert them, then drop them) against the engine's conversion without them,
and the whole `dump` and `restore` as a step pays them. Figures are CPU milliseconds per
operation (the median round), with the machine and how busy it was; no database is needed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG

from bench.common import busy_share, machine
from services.common.clock import MovableClock
from services.common.settings import Policy
from services.routing.domain.model import QUEUES
from services.routing.engine import Engine, parse_diagram
from services.routing.engine.timers import ClockCycleTimer, ClockDurationTimer, ClockTimeDateTimer

ROOT = Path(__file__).resolve().parents[1]
COMPLAINT = {
    "id": "c-1",
    "number": "TS-20261122-0001",
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
    "description": "店员态度恶劣，拒绝换货",
    "promised_reply_date": "2026-11-25",
}


def library_serializer() -> BpmnWorkflowSerializer:
    config = deepcopy(CAMUNDA_CONFIG)
    for timer in (ClockDurationTimer, ClockTimeDateTimer, ClockCycleTimer):
        config[timer] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def cpu_ms(action, ops: int) -> float:
    started = time.process_time()
    for _ in range(ops):
        action()
    return (time.process_time() - started) * 1000 / ops


def run(bpmn: Path, rounds: int, ops: int) -> dict[str, float]:
    dmn = {path.name: path.read_bytes() for path in bpmn.parent.glob("*.dmn")}
    diagram = parse_diagram(bpmn.read_bytes(), dmn, set(QUEUES), bpmn.name)
    engine = Engine(MovableClock(datetime(2026, 11, 22, 2, tzinfo=UTC)))
    policy = {**Policy().as_workflow_data(), "time_zone": "Asia/Shanghai"}
    workflow = engine.create(diagram, {"complaint": COMPLAINT, "policy": policy})
    engine.advance(workflow)
    state = engine.dump(workflow)
    library, ours = library_serializer(), engine._serializer(workflow.spec)

    def with_specs_dropped():
        converted = library.to_dict(workflow)
        del converted["spec"], converted["subprocess_specs"]

    actions = {
        "convert with specs, then drop them (before)": with_specs_dropped,
        "convert without specs (now)": lambda: ours.to_dict(workflow),
        "dump (convert, compact, JSON)": lambda: engine.dump(workflow),
        "restore": lambda: engine.restore(diagram, state),
    }
    samples: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            samples[name].append(cpu_ms(action, ops))
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bpmn", type=Path, default=ROOT / "bpmn" / "complaint.bpmn")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args(argv)
    busy = busy_share()
    figures = run(args.bpmn, args.rounds, args.ops)
    for key, value in machine(busy_before=f"{busy:.0f}%").items():
        print(f"{key:>12}: {value}")
    print(
        f"\n{args.bpmn.name}, at the first task; CPU ms per operation, median of {args.rounds} interleaved rounds"
    )
    for name, value in figures.items():
        print(f"  {name:<46} {value:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

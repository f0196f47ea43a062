"""The proof a version passes before it deploys: its time on a diagram, in a sandbox process as a deploy runs it.

    .venv/bin/python bench/proof.py                       # bpmn/complaint.bpmn, 3 rounds
    .venv/bin/python bench/proof.py --bpmn tests/data/routing/complaint_v1.bpmn --rounds 5

Each round starts a fresh sandbox process (the first step of a deploy pays for its start and the
parse too), proves the diagram against the probe complaints under the default policy, and prints
the wall time of the whole proof, the sandbox child's CPU, the walks and actions taken, and the
coverage. No database is needed: the proof stores nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import busy_share, machine
from services.common.settings import Policy
from services.routing.engine.proof import ProofRequest
from services.routing.engine.sandbox import Sandbox
from services.routing.service_layer.diagrams import candidate_source
from services.routing.service_layer.probes import probes

ROOT = Path(__file__).resolve().parents[1]


def one_round(bpmn: Path, key: str) -> tuple[float, float, object]:
    dmn = {path.name: path.read_text(encoding="utf-8") for path in bpmn.parent.glob("*.dmn")}
    source = candidate_source(key, bpmn.read_text(encoding="utf-8"), dmn, bpmn.name, {})
    now = datetime(2026, 11, 22, 2, tzinfo=UTC)
    request = ProofRequest(probes({**Policy().as_workflow_data(), "time_zone": "Asia/Shanghai"}, now), now)
    sandbox = Sandbox(processes=1)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        result = sandbox.prove(source, request)
    finally:
        sandbox.close()
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    return wall, cpu, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bpmn", type=Path, default=ROOT / "bpmn" / "complaint.bpmn")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    m = machine()
    print(
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['date']}; "
        f"busy before: {busy_share():.0f}% of the cores",
        flush=True,
    )
    walls = []
    for round_ in range(1, args.rounds + 1):
        wall, cpu, result = one_round(args.bpmn, f"bench-{os.getpid()}-{round_}")
        walls.append(wall)
        reached = len(result.reached & set(result.elements))
        print(
            f"round {round_}: {wall:.2f} s wall, {cpu:.2f} s CPU in the sandbox, {result.walks} walks, "
            f"{result.actions} actions, {reached} of {len(result.elements)} elements reached, "
            f"{len(result.problems)} problems, complete: {result.complete}",
            flush=True,
        )
    print(f"best: {min(walls):.2f} s for {args.bpmn.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

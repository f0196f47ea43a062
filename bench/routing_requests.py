"""Routing's API, request by request: the CPU each kind of staff request costs the routing process.

    .venv/bin/python bench/routing_requests.py              # 40 complaints, 200 reads of each kind
    .venv/bin/python bench/routing_requests.py --reads 500

The compose layout as bench/lifecycle.py starts it (every service its own process behind the
gateway, the shipped diagram, RabbitMQ and PostgreSQL), with `--complaints` complaints posted by the
desk and waited for until their first tasks exist. Then each kind of request is made in turn,
through the gateway as a department's system makes it, and the routing process's CPU (its sandbox
processes apart) is read before and after each kind, a second's pause around it, so what its
outbox relay publishes for the requests is counted with them:

- reads (`--reads` each): a case (`GET /cases/<id>`, with its open tasks), its pending timers,
  one task;
- changes: every open task claimed; on each case, one timer that leaves its task open (a reminder,
  an alert) fired; every task completed with valid form data (a step's sandbox CPU printed apart).

Prints one line per kind (ms of CPU per request, wall ms per request), the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import requests

from bench.common import Servers, machine
from bench.lifecycle_run import running_system

ROOT = Path(__file__).resolve().parent.parent
PAUSE = 1.0  # seconds before and after each kind: the relay's publishing of the last requests settles


class RoutingCpu:
    """The routing API process's CPU seconds, and its sandbox processes' apart."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)

    def read(self) -> tuple[float, float]:
        own = self.process.cpu_times()
        children = sum(sum(child.cpu_times()[:2]) for child in self.process.children(recursive=True))
        return own.user + own.system, children


def measure(cpu: RoutingCpu, name: str, calls: list[Callable[[], requests.Response]]) -> dict:
    time.sleep(PAUSE)
    (own0, children0), wall = cpu.read(), time.perf_counter()
    failed = sum(1 for call in calls if not call().ok)
    wall = time.perf_counter() - wall
    time.sleep(PAUSE)
    own1, children1 = cpu.read()
    count = len(calls)
    return {
        "kind": name,
        "requests": count,
        "failed": failed,
        "cpu_ms": round(1000 * (own1 - own0) / count, 2),
        "sandbox_cpu_ms": round(1000 * (children1 - children0) / count, 2),
        "wall_ms": round(1000 * wall / count, 2),
    }


def run(complaints: int, reads: int) -> list[dict]:
    from bench import soak_clients

    servers = Servers(name=f"mall_requests_{os.getpid()}")
    logs = ROOT / ".data" / "routing-requests" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    logs.mkdir(parents=True, exist_ok=True)
    with running_system(servers, logs) as system:
        gateway, desk, staff, events = system.gateway, system.desk, system.staff, system.events
        by_role = {role: {"Authorization": f"Bearer {token}"} for _, role, token, _, _ in staff}
        operator = by_role["operations_manager"]
        reference = soak_clients._reference()
        http = requests.Session()
        ids = []
        for number in range(complaints):
            body = soak_clients.complaint_body(number, reference)
            posted = http.post(
                f"{gateway}/intake/complaints", json=body, headers={"Authorization": f"Bearer {desk}"}
            )
            ids.append(posted.json()["id"])
        if not all(events.wait(case_id) for case_id in ids):
            raise RuntimeError("a complaint's first task did not come")
        time.sleep(2 * PAUSE)
        cases = [http.get(f"{gateway}/routing/cases/{case_id}", headers=operator).json() for case_id in ids]
        tasks = [task for case in cases for task in case["open_tasks"]]
        cpu = RoutingCpu(system.deployment.processes["routing"].pid)

        def get(path: str, headers: dict) -> Callable[[], requests.Response]:
            return lambda: http.get(f"{gateway}/routing{path}", headers=headers)

        def post(path: str, headers: dict, body: dict | None = None) -> Callable[[], requests.Response]:
            return lambda: http.post(f"{gateway}/routing{path}", json=body, headers=headers)

        first, task = ids[0], tasks[0]
        found = [
            measure(cpu, "read a case", [get(f"/cases/{first}", operator)] * reads),
            measure(cpu, "list its timers", [get(f"/cases/{first}/timers", operator)] * reads),
            measure(cpu, "read a task", [get(f"/tasks/{task['id']}", by_role[task["queue"]])] * reads),
            measure(
                cpu, "claim", [post(f"/tasks/{each['id']}/claim", by_role[each["queue"]]) for each in tasks]
            ),
        ]
        timers = {}
        for case_id in ids:
            listed = http.get(f"{gateway}/routing/cases/{case_id}/timers", headers=operator).json()
            # one that leaves the case's task open (a reminder, an alert), so its completion follows
            gentle = [timer for timer in listed if not timer["interrupting"]]
            if gentle:
                timers[case_id] = gentle[0]["id"]
        if not timers:
            raise RuntimeError("no case waits on a timer that leaves its task open")
        reason = {"reason": "基准测试：提前触发"}
        fires = [
            post(f"/cases/{case_id}/timers/{timer}/fire", operator, reason)
            for case_id, timer in timers.items()
        ]
        found.append(measure(cpu, "fire a timer", fires))
        completions = [
            post(
                f"/tasks/{each['id']}/complete",
                by_role[each["queue"]],
                {"data": soak_clients.form_data(each["form"])},
            )
            for each in tasks
        ]
        found.append(measure(cpu, "complete", completions))
        return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/routing_requests.py",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--complaints", type=int, default=40, help="complaints posted (default 40)")
    parser.add_argument("--reads", type=int, default=200, help="requests of each reading kind (default 200)")
    args = parser.parse_args(argv)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    found = run(args.complaints, args.reads)
    print(f"{'kind':18s} {'requests':>8s} {'failed':>6s} {'CPU ms':>8s} {'sandbox ms':>10s} {'wall ms':>8s}")
    for row in found:
        print(
            f"{row['kind']:18s} {row['requests']:8d} {row['failed']:6d} {row['cpu_ms']:8.2f}"
            f" {row['sandbox_cpu_ms']:10.2f} {row['wall_ms']:8.2f}"
        )
    facts = machine(load_before=load, load_after=" ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(", ".join(f"{key}: {value}" for key, value in facts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One run of bench/lifecycle.py: the system up, a quiet stretch measured, N lives driven, measured.

Imported only once bench/lifecycle.py has chosen which checkout `services` and `tests` come from.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kombu import Connection

from bench.common import Servers, commit_of, prepare, staff_roles, stop_all, vhost_queues
from bench.lifecycle_drive import Staff, TaskEvents, drive
from bench.lifecycle_measure import Meter, Monitor, busiest_statements, delta, quiet
from tests.support.deployment import ROOT, Deployment

STATS_LAG = 11.0  # PostgreSQL reports an idle backend's commits within 10 s (PGSTAT_IDLE_INTERVAL)
QUIET_TIMEOUT = 300.0


class Depths:
    """Messages waiting in the vhost's queues (dead-letter queues apart), by passive declare."""

    def __init__(self, amqp_url: str, vhost: str):
        self.connection = Connection(amqp_url)
        self.queues = [name for name in vhost_queues(vhost) if not name.endswith(".dead")]
        self.dead = [name for name in vhost_queues(vhost) if name.endswith(".dead")]

    def __call__(self, names: list[str] | None = None) -> dict[str, int]:
        channel = self.connection.default_channel
        return {
            name: channel.queue_declare(queue=name, passive=True).message_count
            for name in names or self.queues
        }

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.release()


def one_run(
    complaints: int,
    concurrency: int,
    idle_seconds: float,
    admin_url: str,
    postmaster: int | None,
    statements: bool,
    logs: Path | None = None,
) -> dict:
    servers = Servers(name=f"mall_life_{os.getpid()}", admin_url=admin_url)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    logs = logs or Path(__file__).resolve().parent.parent / ".data" / "lifecycle" / f"{stamp}-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"logs in {logs}", file=sys.stderr, flush=True)
    monitor, depths = None, None
    with running_system(servers, logs) as system:
        try:
            deployment, events = system.deployment, system.events
            monitor = Monitor(servers.db_url, statements)
            meter = Meter(
                {name: p.pid for name, p in deployment.processes.items()}, monitor, postmaster, servers.db_url
            )
            depths = Depths(servers.amqp_url, servers.name)
            quiet(monitor, depths, QUIET_TIMEOUT)
            time.sleep(2)  # the services' start-up work (pools filling, first polls) behind them

            # nothing flowing
            cpu0, count0 = meter.read(), monitor.counters()
            time.sleep(idle_seconds)
            cpu1, count1 = meter.read(), monitor.counters()
            idle_cpu, idle_counts = delta(cpu1, cpu0), delta(count1, count0)

            # N lives
            staff_of = Staff(system.gateway, system.desk, system.staff, events)
            load_before = os.getloadavg()
            cpu2, count2, queries2 = meter.read(), monitor.counters(), monitor.by_query()
            outcomes = drive(staff_of, range(complaints), concurrency)
            driven = time.monotonic() - cpu2["at"]
            quiet(monitor, depths, QUIET_TIMEOUT)
            cpu3, count3, queries3 = meter.read(), monitor.counters(), monitor.by_query()
            load_after = os.getloadavg()
            time.sleep(STATS_LAG)
            count4 = monitor.counters()
            dead = {name: n for name, n in depths(depths.dead).items() if n}
            flow_cpu, flow_counts = delta(cpu3, cpu2), delta(count3, count2)
            lag = count4["at"] - count3["at"]
            commits = count4["commits"] - count2["commits"] - lag * idle_counts["commits"] / idle_counts["at"]
            found = report(
                complaints,
                concurrency,
                idle_cpu,
                idle_counts,
                flow_cpu,
                flow_counts,
                commits,
                outcomes,
                staff_of,
                events,
                driven,
                dead,
                (load_before, load_after),
                statements,
                postmaster is not None,
            )
            found["busiest_statements"] = busiest_statements(queries2, queries3, complaints)
            return found
        finally:
            if depths is not None:
                depths.close()
            if monitor is not None:
                monitor.close()


@dataclass
class System:
    """The compose layout running for a benchmark: who may act, and the task queues' consumer."""

    deployment: Deployment
    gateway: str  # its base URL
    desk: str  # the service desk's token
    staff: list[tuple[str, str, str, int, int]]  # (user, role, token, n of the role's members, how many)
    events: TaskEvents


@contextlib.contextmanager
def running_system(servers: Servers, logs: Path) -> Iterator[System]:
    """Every long-running service of the compose layout as its own process behind the gateway, on
    the run's database and vhost (created here), a desk and one member of staff per role, and the
    consumer of the task queues; all stopped and removed after, also on an error."""
    deployment, started, events = None, [], None
    try:
        servers.create()
        deployment = Deployment(logs, servers.db_url, servers.amqp_url, NOTIFY_QUIET_HOURS="none")
        desk, staff = prepare(deployment, 1, hours=6)
        deployment.start_long_running()
        gateway = deployment.start_gateway()
        started = _everything(deployment)
        events = TaskEvents(servers.amqp_url, list(staff_roles()))
        events.start()
        events.ready.wait(30)
        yield System(deployment, gateway, desk, staff, events)
    finally:
        if events is not None:
            events.stop()
        if deployment is not None:
            with contextlib.suppress(Exception):
                started += _everything(deployment)
            stop_all(deployment, started)
        servers.remove()


def _everything(deployment: Deployment) -> list:
    import psutil

    found = []
    for process in deployment.processes.values():
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(process.pid)
            found += [root, *root.children(recursive=True)]
    return found


def report(
    complaints,
    concurrency,
    idle_cpu,
    idle_counts,
    flow_cpu,
    flow_counts,
    commits,
    outcomes,
    staff,
    events,
    driven,
    dead,
    loads,
    statements: bool,
    own_cluster: bool,
) -> dict:
    cores = os.cpu_count() or 1
    services = {
        name: ms for name, ms in flow_cpu.items() if name not in ("postgresql", "rabbitmq", "machine", "at")
    }
    per = 1000 / complaints
    cpu_ms = {name: round(seconds * per, 1) for name, seconds in sorted(services.items())}
    services_ms = sum(services.values()) * per
    postgres_ms, rabbit_ms = flow_cpu["postgresql"] * per, flow_cpu["rabbitmq"] * per
    measured = sum(services.values()) + flow_cpu["postgresql"] + flow_cpu["rabbitmq"]
    idle_services = sum(s for name, s in idle_cpu.items() if name not in ("rabbitmq", "machine", "at"))
    return {
        "commit": commit_of(ROOT),
        "complaints": complaints,
        "concurrency": concurrency,
        "outcomes": dict(outcomes),
        "cpu_ms_per_complaint": {
            "services": cpu_ms,
            "services_total": round(services_ms, 1),
            "postgresql": round(postgres_ms, 1),
            "rabbitmq": round(rabbit_ms, 1),
            "total": round(services_ms + postgres_ms + rabbit_ms, 1),
        },
        "statements_per_complaint": round(flow_counts["statements"] / complaints, 1) if statements else None,
        "statements_source": "pg_stat_statements of a cluster of the run's own: top-level statements of the"
        " run's database, BEGIN/COMMIT included, the benchmark's own left out"
        if statements
        else "not counted: no pg_stat_statements (shared server without shared_preload_libraries)",
        "commits_per_complaint": round(commits / complaints, 1),
        "commits_source": "pg_stat_database.xact_commit of the run's database, read 11 s after the flow"
        " (PostgreSQL's reporting lag) less the idle rate over those seconds, the benchmark's own left out",
        "events_per_complaint": round(flow_counts["events"] / complaints, 1),
        "idle_cpu_share": round(100 * idle_services / idle_cpu["at"], 2),
        "idle": {
            "seconds": round(idle_cpu["at"], 1),
            "cpu_pct_of_a_core": {
                name: round(100 * s / idle_cpu["at"], 2)
                for name, s in idle_cpu.items()
                if name not in ("machine", "at")
            },
            "statements_per_s": round(idle_counts["statements"] / idle_counts["at"], 1)
            if statements
            else None,
            "commits_per_s": round(idle_counts["commits"] / idle_counts["at"], 1),
        },
        "flow": {
            "seconds": round(flow_cpu["at"], 1),
            "driving_seconds": round(driven, 1),
            "idle_share_of_flow_cpu_ms_per_complaint": round(
                (idle_services + idle_cpu["rabbitmq"]) / idle_cpu["at"] * flow_cpu["at"] * per, 1
            ),
            "requests_per_complaint": {
                k: round(n / complaints, 2) for k, n in sorted(staff.requests.items())
            },
            "acts": dict(sorted(staff.completed.items())),
            "task_events": dict(events.counts),
            "errors": staff.errors[:10],
            "dead_letters": dead,
        },
        "machine": {
            "cores": cores,
            "load_before": " ".join(f"{x:.2f}" for x in loads[0]),
            "load_after": " ".join(f"{x:.2f}" for x in loads[1]),
            "busy_pct_during_flow": round(100 * flow_cpu["machine"] / (flow_cpu["at"] * cores), 1),
            "others_pct_during_flow": round(
                100 * (flow_cpu["machine"] - measured) / (flow_cpu["at"] * cores), 1
            ),
            "postgresql": "a cluster of the run's own" if own_cluster else "the shared server",
            "rabbitmq": "the machine's shared server (its CPU includes other users')",
        },
    }

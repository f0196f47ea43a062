"""Soak: the whole system at a steady complaint rate for N minutes, with staff working the tasks.

    .venv/bin/python bench/soak.py                              # 10 min at 20 complaints/s
    .venv/bin/python bench/soak.py --minutes 60 --rate 100      # the target
    .venv/bin/python bench/soak.py --find-max --start-rate 10   # step the rate up until it fails

Every long-running service of deploy/compose.yaml runs as its own process, started as compose
starts it (tests/support/deployment.py), behind the gateway's nginx, on a database and a RabbitMQ
vhost of the run's own (both removed at the end, also on Ctrl+C, SIGTERM or an error; every
process started is stopped). The compose jobs run first: migrations, the diagram of bpmn/, then
the demo mall is seeded and the staff created.

Then, for --minutes: complaints are POSTed to intake through the gateway with a desk token at
--rate per second, open-loop (bench/soak_clients.py says how); --staff members of staff per role
claim and complete tasks through routing's API with valid form data, so cases move along and
close (the callback waits --callback-after seconds instead of a day); and a department's system
consumes the `tasks.<role>` queues, which gives the latency from the POST to the first task.
Every --sample seconds it prints what it measured; at the end, the summary, and where the plot
and the raw samples were written. bench/README.md says how to read it.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg

from bench.common import Interrupted, Servers, _on_signal, prepare, stop_all, vhost_queues, wait_idle
from bench.soak_results import plot, print_summary, summary, write_raw
from bench.soak_system import SCALABLE, STAFF_ROLES, Soak, audit, scale
from bench.soak_verdicts import TARGET_P99_MS, TARGET_RATE, judge
from bench.soak_watch import ROOT, Processes, QueueDepths, machine
from tests.support.deployment import Deployment

# --------------------------------------------------------------------------- main


def phases_of(args) -> list[tuple[float, float]]:
    if not args.find_max:
        return [(args.rate, args.minutes * 60)]
    rates, rate = [], args.start_rate
    while rate <= args.max_rate + 1e-9:
        rates.append(round(rate, 1))
        rate = rate * args.step_factor
    return [(rate, args.step_minutes * 60) for rate in rates]


def run(args) -> int:
    folder = Path(
        args.out or ROOT / ".data" / "soak" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    servers = Servers()
    deployment = None
    started: list[psutil.Process] = []
    try:
        print(f"creating database and vhost {servers.name} ...", flush=True)
        servers.create()
        facts = machine(servers.db_url)
        settings = {
            "NOTIFY_QUIET_HOURS": "none",
            "POLICY_CALLBACK_FROM_HOURS": str(args.callback_after / 3600),
        }
        deployment = Deployment(folder / "logs", servers.db_url, servers.amqp_url, **settings)
        (folder / "logs").mkdir(exist_ok=True)
        phases = phases_of(args)
        hours = sum(seconds for _, seconds in phases) / 3600 + 2
        print(
            f"migrating, deploying bpmn/, seeding, creating {len(STAFF_ROLES) * args.staff + 1} users ...",
            flush=True,
        )
        desk, staff = prepare(deployment, args.staff, hours)
        print("starting every long-running service and the gateway ...", flush=True)
        deployment.start_long_running()
        for name in scale(deployment, args.scale):
            deployment.wait_ready(name)
        soak = Soak(args, deployment, servers, desk, staff, folder)
        soak.gateway = deployment.start_gateway()
        processes = Processes({name: p.pid for name, p in deployment.processes.items()}, servers.db_url)
        started = processes.everything_started()
        queues = vhost_queues(servers.name)
        print(
            f"{len(deployment.processes)} processes up; {len(queues)} queues in vhost {servers.name};"
            f" logs in {folder / 'logs'}",
            flush=True,
        )
        return soak_run(soak, phases, facts, processes, queues, folder)
    finally:
        if deployment is not None:
            with contextlib.suppress(Exception):
                started += [
                    p
                    for p in Processes(
                        {n: p.pid for n, p in deployment.processes.items() if p.poll() is None},
                        servers.db_url,
                    ).everything_started()
                ]
            stop_all(deployment, started)
        servers.remove()
        print(f"removed database and vhost {servers.name}; every process started is stopped", flush=True)


def soak_run(soak: Soak, phases, facts, processes: Processes, queues, folder: Path) -> int:
    args = soak.args
    conn = psycopg.connect(soak.servers.db_url, autocommit=True)
    if args.wait_idle:
        busy = wait_idle(args.wait_idle, announce=True)
        print(f"the machine is {busy:.0f}% busy", flush=True)
    soak.start_clients()
    time.sleep(1)  # the observer and the staff connected
    soak.started = time.monotonic()
    soak.feed_wall = time.time()
    done_phases, verdicts = [], []
    interrupted = None
    try:
        for index, (rate, seconds) in enumerate(phases):
            phase = f"{rate:g}/s"
            print(f"--- feeding {rate:g} complaints/s for {seconds:.0f} s ---", flush=True)
            start_wall = time.time()
            feeder, numbers = soak.feed(rate, seconds)
            soak.watch(lambda feeder=feeder: not feeder.is_alive(), rate, phase, processes, conn, queues)
            feeder.join()
            done_phases.append(
                {
                    "rate": rate,
                    "seconds": seconds,
                    "start_wall": start_wall,
                    "first": numbers.start,
                    "count": len(numbers),
                }
            )
            if index < len(phases) - 1:  # --find-max: let the step's last complaints arrive, then judge it
                settle(soak, processes, conn, queues, 30, rate)
                if not judge(soak, done_phases[-1], verdicts)["sustained"]:
                    break
        soak.drain_seconds = settle(soak, processes, conn, queues, args.drain, 0.0)
        if len(verdicts) < len(done_phases):
            judge(soak, done_phases[-1], verdicts)
    except (KeyboardInterrupt, Interrupted) as exc:
        interrupted = exc
        print(f"\ninterrupted ({type(exc).__name__}): reporting what was measured", flush=True)
        soak.drain_seconds = 0.0
    soak.stop_clients()
    depths = QueueDepths(soak.servers.amqp_url)
    final_queues = depths.depths(vhost_queues(soak.servers.name))
    depths.close()
    audited = audit(conn, soak.books, final_queues)
    conn.close()
    if not done_phases:
        done_phases = [
            {
                "rate": phases[0][0],
                "seconds": max(1.0, time.time() - soak.feed_wall),
                "start_wall": soak.feed_wall,
            }
        ]
    result = summary(soak, done_phases, facts, audited, verdicts)
    sustained = [step["rate"] for step in verdicts if step["sustained"]]
    if args.find_max:
        result["highest_sustained_rate"] = max(sustained) if sustained else None
    elif verdicts:
        run_verdict = verdicts[-1]
        result["target_met"] = (
            run_verdict["rate"] >= TARGET_RATE
            and run_verdict["sustained"]
            and args.p99_ms <= TARGET_P99_MS
            and result["memory_flat"]
        )
    write_raw(folder, soak, result)
    print_summary(result)
    if args.find_max:
        print(
            f"  highest rate sustained (p99 < {args.p99_ms:.0f} ms, no growing backlog):"
            f" {result['highest_sustained_rate'] or 'none of the steps'} complaints/s"
        )
    elif "target_met" in result:
        print(
            f"  target ({TARGET_RATE:g} complaints/s sustained, p99 POST -> first task < {TARGET_P99_MS:g} ms, flat"
            f" memory): {'MET' if result['target_met'] else 'missed'}"
        )
    if soak.samples:
        rates = ", ".join(f"{p['rate']:g}/s" for p in done_phases)
        title = f"soak {rates} on {facts['cpu']} x{facts['cores']}, commit {facts['commit']}, {facts['date']}"
        plot(soak.samples, folder / "soak.png", title)
        print(f"  plot: {folder / 'soak.png'}")
    print(f"  raw: {folder / 'samples.json'}, {folder / 'complaints.csv'}, {folder / 'summary.json'}")
    if interrupted is not None:
        raise interrupted
    return 0


def settle(soak: Soak, processes, conn, queues, limit: float, rate: float) -> float:
    """Keep the staff working until every complaint has its first task and the queues, outboxes
    and open tasks are down (or `limit` seconds); how long it took."""
    if limit <= 0:
        return 0.0
    print(f"--- draining (up to {limit:.0f} s) ---", flush=True)
    began = time.monotonic()

    def settled() -> bool:
        last = soak.samples[-1]
        calm = soak.backlog(last) == 0 and last["open_tasks"] <= 2 * len(soak.staff)
        return calm or time.monotonic() - began >= limit

    soak.watch(settled, rate, "drain", processes, conn, queues)
    return time.monotonic() - began


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/soak.py",
        description=__doc__.split("\n\n", 2)[2].strip() if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=10, help="how long to feed complaints (default 10)")
    parser.add_argument(
        "--rate", type=float, default=20, help="complaints per second, open-loop (default 20)"
    )
    parser.add_argument(
        "--staff", type=int, default=3, help="members of staff per role, each a thread (default 3)"
    )
    parser.add_argument(
        "--staff-processes", type=int, default=2, help="processes the staff threads share (default 2)"
    )
    parser.add_argument("--threads", type=int, default=64, help="threads sending the complaints (default 64)")
    parser.add_argument("--sample", type=float, default=5, help="seconds between samples (default 5)")
    parser.add_argument(
        "--drain",
        type=float,
        default=120,
        help="after feeding, seconds to let the staff finish the open cases (default 120)",
    )
    parser.add_argument(
        "--callback-after",
        type=float,
        default=0,
        help="seconds from the reply to the callback (POLICY_CALLBACK_FROM_HOURS; default 0)",
    )
    parser.add_argument(
        "--p99-ms", type=float, default=TARGET_P99_MS, help="--find-max's p99 limit (default 500)"
    )
    parser.add_argument(
        "--find-max",
        action="store_true",
        help="step the rate up from --start-rate by --step-factor, --step-minutes each, until a step"
        " misses the p99 limit, falls behind or grows a backlog; report the highest sustained",
    )
    parser.add_argument("--start-rate", type=float, default=10, help="--find-max's first rate (default 10)")
    parser.add_argument(
        "--step-factor", type=float, default=1.5, help="--find-max's rate multiplier (default 1.5)"
    )
    parser.add_argument(
        "--step-minutes", type=float, default=2, help="--find-max's minutes per step (default 2)"
    )
    parser.add_argument("--max-rate", type=float, default=400, help="--find-max's last rate (default 400)")
    parser.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N instances of a compose service, e.g. --scale reporting-worker=2 (repeatable)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        help="first wait up to this many seconds for the machine to be less than 15%% busy",
    )
    parser.add_argument("--out", help="folder for the plot, samples and logs (default .data/soak/<time>)")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.start_rate <= 0 or args.step_factor <= 1 or args.minutes <= 0:
        parser.error("rates and --minutes must be positive, --step-factor above 1")
    for item in args.scale:
        name, _, count = item.partition("=")
        if not count.isdigit() or int(count) < 1 or name not in SCALABLE:
            parser.error(f"--scale {item}: want SERVICE=N with N >= 1, SERVICE one of {', '.join(SCALABLE)}")
    if args.find_max and args.start_rate > args.max_rate:
        parser.error("--start-rate must not be above --max-rate")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        return run(args)
    except (KeyboardInterrupt, Interrupted):
        return 130
    except Exception:
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())

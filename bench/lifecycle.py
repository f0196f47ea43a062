"""A complaint's whole life, and what it costs: CPU, statements, commits and events per complaint.

    .venv/bin/python bench/lifecycle.py                          # 100 complaints, a quiet minute
    .venv/bin/python bench/lifecycle.py -n 10 --idle-seconds 10  # a quick look
    .venv/bin/python bench/lifecycle.py --against main           # this checkout and main, A B A B

Every long-running service of deploy/compose.yaml runs as its own process behind the gateway
(as bench/soak.py starts them), with the shipped diagram bpmn/complaint.bpmn, on RabbitMQ and on a
PostgreSQL cluster of the run's own (pg_stat_statements preloaded; the shared server when no
PostgreSQL with it is installed, and then no statements are counted). First a quiet stretch with
nothing flowing (--idle-seconds), then N complaints, --concurrency at a time, each driven through
its whole life (bench/lifecycle_drive.py says how), until nothing is left to publish, consume or
deliver. One JSON object is printed; with --against REV, the same runs interleaved on a worktree
of REV, and both.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ADMIN_URL, Interrupted, _on_signal, machine, worktree
from bench.lifecycle_cluster import Cluster, binaries

ROOT = Path(__file__).resolve().parent.parent
KEYS = (
    "cpu_ms_per_complaint.total",
    "cpu_ms_per_complaint.services_total",
    "cpu_ms_per_complaint.postgresql",
    "cpu_ms_per_complaint.rabbitmq",
    "statements_per_complaint",
    "commits_per_complaint",
    "events_per_complaint",
    "idle_cpu_share",
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/lifecycle.py",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-n", "--complaints", type=int, default=100, help="complaints driven (default 100)")
    parser.add_argument("--concurrency", type=int, default=8, help="complaints in flight at once (default 8)")
    parser.add_argument("--idle-seconds", type=float, default=60, help="the quiet stretch (default 60)")
    parser.add_argument("--against", metavar="REV", help="also run a worktree of this commit, interleaved")
    parser.add_argument("--rounds", type=int, default=2, help="with --against: A B pairs (default 2)")
    parser.add_argument(
        "--shared-server",
        action="store_true",
        help="use the server of BENCH_DATABASE_URL instead of a cluster of the run's own",
    )
    parser.add_argument("--root", help=argparse.SUPPRESS)  # the checkout a single run takes its code from
    parser.add_argument("--admin-url", help=argparse.SUPPRESS)
    parser.add_argument("--postmaster", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.complaints < 1 or args.concurrency < 1 or args.idle_seconds <= 0 or args.rounds < 1:
        parser.error("--complaints, --concurrency, --idle-seconds and --rounds must be positive")
    return args


def single(args) -> dict:
    """One run in this process, on the code of --root."""
    root = Path(args.root or ROOT).resolve()
    if root != ROOT:
        sys.path.insert(0, str(root))  # `services` and `tests` from there; `bench` stays this one
    from bench.lifecycle_run import one_run

    return one_run(
        args.complaints,
        args.concurrency,
        args.idle_seconds,
        args.admin_url,
        args.postmaster,
        statements=args.postmaster is not None,
    )


def child(args, root: Path, admin_url: str, postmaster: int | None) -> dict:
    """One run in a process of its own, on the code of `root`."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            sys.executable,
            "-m",
            "bench.lifecycle",
            "--root",
            str(root),
            "--admin-url",
            admin_url,
            "--out",
            out.name,
            "-n",
            str(args.complaints),
            "--concurrency",
            str(args.concurrency),
            "--idle-seconds",
            str(args.idle_seconds),
        ]
        if postmaster:
            command += ["--postmaster", str(postmaster)]
        print(f"run on {root} ...", file=sys.stderr, flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
        return json.loads(Path(out.name).read_text(encoding="utf-8"))


def figure(result: dict, key: str):
    for part in key.split("."):
        result = result.get(part) if isinstance(result, dict) else None
    return result


def medians(runs: list[dict]) -> dict:
    found = {}
    for key in KEYS:
        values = [v for run in runs if (v := figure(run, key)) is not None]
        found[key] = statistics.median(values) if values else None
    return found


def run(args) -> dict:
    cluster = None
    try:
        admin_url, postmaster = args.admin_url or ADMIN_URL, None
        bin_dir = None if args.shared_server else binaries()
        if bin_dir is not None:
            cluster = Cluster(bin_dir)
            admin_url = cluster.start()
            postmaster = cluster.postmaster_pid()
            print(f"PostgreSQL cluster of this run's own on port {cluster.port}", file=sys.stderr, flush=True)
        facts = machine(postgresql=str(bin_dir.parent.name if bin_dir else "shared server"))
        if not args.against:
            result = child(args, ROOT, admin_url, postmaster)
            return {**result, "machine": {**facts, **result["machine"]}}
        with worktree(args.against) as other:
            this, against = [], []
            for _ in range(args.rounds):
                this.append(child(args, ROOT, admin_url, postmaster))
                against.append(child(args, other, admin_url, postmaster))
        return {
            "machine": facts,
            "this": {"median": medians(this), "runs": this},
            "against": {"rev": args.against, "median": medians(against), "runs": against},
        }
    finally:
        if cluster is not None:
            cluster.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        if args.out:  # a single run, started by run()
            result = single(args)
            Path(args.out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
            return 0
        print(json.dumps(run(args), ensure_ascii=False, indent=2))
        return 0
    except (KeyboardInterrupt, Interrupted):
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())

"""What bench/routing.py prints: the machine, the tables of every phase, the verdicts, the breakdowns."""

from __future__ import annotations

import os

from bench.common import _fmt
from bench.routing_loops import Breakdown
from bench.routing_support import TARGET_SHARE, TARGET_TIMER_P99


def print_machine(results: dict, rabbitmq: str | None) -> None:
    m, pg = results["machine"], results.get("postgres", {})
    line = (
        f"machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}\n"
        f"PostgreSQL {pg.get('server_version', '?')} (synchronous_commit={pg.get('synchronous_commit', '?')},"
        f" fsync={pg.get('fsync', '?')}), RabbitMQ {rabbitmq or results.get('rabbitmq', '?')},"
        f" Python {m['python']}, SpiffWorkflow {m['spiffworkflow']}, {m['date']}, code {m['code']}"
    )
    print(line, flush=True)
    if results.get("busy_before", 0) > 15:
        print(
            f"warning: the machine was {results['busy_before']:.0f}% busy before the run"
            f" (load {results['load_before']:.2f}); the figures are low and scattered",
            flush=True,
        )


def report(results, engine, starts, completions, lags, loops, notes, args) -> None:
    print("\n" + "=" * 100)
    print_machine(results, results.get("rabbitmq"))
    if engine:
        print("\n(a) bare engine, in memory, one process")
        print(f"  start -> first user task        {engine.first_task:8.0f} cases/s")
        print(f"  happy path to completion        {engine.happy:8.0f} cases/s")
        print(
            f"  (first task + one dump          {engine.first_task_dumped:8.0f} cases/s;"
            f" state {engine.state_bytes} bytes of JSON)"
        )
        print(f"  (happy path, restore + dump around every step {engine.happy_stored:.0f} cases/s)")
        if engine.first_task_sandboxed:
            print(
                f"  (in a sandbox process, one round trip per step: first task {engine.first_task_sandboxed:.0f}"
                f" cases/s, happy path {engine.happy_sandboxed:.0f} cases/s)"
            )
        if engine.shipped_first_task:
            print(
                f"  on bpmn/complaint.bpmn, the diagram the mall runs: first tasks {engine.shipped_first_task:.0f}"
                f" cases/s ({engine.first_task / engine.shipped_first_task:.1f}x slower than the test diagram),"
                f" whole life {engine.shipped_life:.0f} cases/s ({engine.happy / engine.shipped_life:.1f}x slower"
                f" than its happy path; tasks {', '.join(engine.shipped_tasks)})"
            )
    if starts:
        print(f"\n(b) service: {args.cases} complaint.received published in a burst -> first task committed")
        print(
            f"  {'workers':>7}  {'cases/s':>8}  {'% engine':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'1-by-1 p50':>10}"
            f"  {'publish s':>9}  {'unrelayed':>9}  CPU"
        )
        for s in starts:
            share = f"{100 * s.rate / engine.first_task:.0f}%" if engine and engine.first_task else "-"
            print(
                f"  {s.workers:>7}  {s.rate:>8.1f}  {share:>8}  {_fmt(s.latency_p50_ms):>7}"
                f"  {_fmt(s.latency_p99_ms):>7}  {_fmt(s.single_p50_ms):>10}  {s.publish_seconds:>9.2f}"
                f"  {s.outbox_backlog:>9}  {s.cpu.describe(s.cases) if s.cpu else ''}"
            )
        print(
            "  (p50/p99: publish -> task row's created_at, queueing in the burst included; 1-by-1: one case"
            " at a time, publish -> row visible)"
        )
    if completions:
        print(
            "\n(b) service: complete handle_floor through the service layer (routing.bus.handle(CompleteTask))"
        )
        print(
            f"  {'workers':>7}  {'drivers x threads':>17}  {'tasks/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}"
            f"  {'errors':>6}  {'unrelayed':>9}  CPU"
        )
        for c in completions:
            print(
                f"  {c.workers:>7}  {f'{c.drivers} x {c.threads}':>17}  {c.rate:>8.1f}  {_fmt(c.p50_ms):>7}"
                f"  {_fmt(c.p99_ms):>7}  {c.errors:>6}  {c.outbox_backlog:>9}  {c.cpu.describe(c.ok) if c.cpu else ''}"
            )
    if engine and starts:
        print(
            f"\n(c) service first-task rate as a share of the bare engine's (target >= {TARGET_SHARE:.0f}%)"
        )
        for s in starts:
            share = 100 * s.rate / engine.first_task if engine.first_task else 0.0
            verdict = "meets" if share >= TARGET_SHARE else "misses"
            print(
                f"  {s.workers} worker(s): {s.rate:.1f} / {engine.first_task:.0f} = {share:.0f}%: {verdict} the target"
            )
            if s.cpu:
                ours = s.cpu.routing + s.cpu.postgres + s.cpu.rabbitmq + s.cpu.bench
                per_case = 1000 * ours / s.cases
                ceiling = 1000 * (os.cpu_count() or 1) / per_case
                print(
                    f"    CPU per case, every process of the path: {per_case:.2f} ms (engine alone"
                    f" {1000 / engine.first_task:.2f} ms); with all {os.cpu_count()} cores busy at most"
                    f" {ceiling:.0f} cases/s = {100 * ceiling / engine.first_task:.0f}% of the engine;"
                    f" the machine was {100 * (ours + s.cpu.others) / (s.cpu.seconds * (os.cpu_count() or 1)):.0f}% busy"
                )
    if loops:
        print(
            f"\n(d) a case looping (callback not satisfied -> handle_ops -> reply -> timer -> callback),"
            f" {args.loop_cases} case(s); mean ms per step (one transaction: load + advance + save)"
        )
        print(
            f"  {'reopened':>8}  {'steps':>5}  {'ms/step':>7}  {'restore':>7}  {'action':>7}  {'query':>7}"
            f"  {'dump':>7}  {'sandbox':>7}  {'rest':>7}  {'state JSON B':>12}  {'stored B':>8}  {'tasks':>5}"
        )
        for row in loops:
            print(
                f"  {row.reopened:>8}  {row.steps:>5}  {_fmt(row.step_ms, 2):>7}  {_fmt(row.restore_ms, 2):>7}"
                f"  {_fmt(row.action_ms, 2):>7}  {_fmt(row.query_ms, 2):>7}  {_fmt(row.dump_ms, 2):>7}"
                f"  {_fmt(row.sandbox_ms, 2):>7}  {_fmt(row.rest_ms, 2):>7}  {row.state_json_bytes:>12}  {row.state_stored_bytes:>8}"
                f"  {row.state_tasks if row.state_tasks is not None else '-':>5}"
            )
        print(
            "  (engine restore / action: create, complete, advance / query: ready tasks, next due / dump, in"
            " this process; sandbox: the whole step in a sandbox process, round trip included;"
            " rest = SQL, JSON, task mirroring, events, commit; state and tasks in it: after the loop, at"
            " handle_ops again)"
        )
    if lags:
        print(
            f"\n(e) timer lag, real clock: due time -> handle_ops created (target p99 <= {TARGET_TIMER_P99:g} s)"
        )
        print(
            f"  {'workers':>7}  {'fired':>9}  {'p50 s':>6}  {'p99 s':>6}  {'max s':>6}  {'seen p50':>8}  {'seen p99':>8}"
        )
        for lag in lags:
            print(
                f"  {lag.workers:>7}  {f'{lag.fired}/{lag.cases}':>9}  {_fmt(lag.p50_s, 3):>6}  {_fmt(lag.p99_s, 3):>6}"
                f"  {_fmt(lag.max_s, 3):>6}  {_fmt(lag.seen_p50_s, 3):>8}  {_fmt(lag.seen_p99_s, 3):>8}"
            )
        print(
            f"  ({args.timer_cases} cases started at {args.timer_rate:g}/s with handler_acts_within_seconds="
            f"{args.timer_due}; seen = when this process first saw the row, polling every 20 ms)"
        )
    for note in notes:
        print(f"note: {note}")


def print_breakdown(breakdown: Breakdown) -> None:
    print(
        f"\n--diagnose: {breakdown.what} in this process, {breakdown.count} one at a time:"
        f" {breakdown.ms_per_op:.2f} ms each ({1000 / breakdown.ms_per_op:.0f}/s), wall time by part"
    )
    for label, ms, calls in breakdown.parts:
        times = f"{calls:4.1f}x" if calls else "     "
        print(f"  {ms:7.3f} ms  {100 * ms / breakdown.ms_per_op:4.0f}%  {times}  {label}")

"""What bench/soak.py prints and writes: the line per sample, the summary, soak.png and the raw files."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from bench.soak_verdicts import TARGET_P99_MS, _ms, memory_verdict, percentiles
from bench.soak_watch import OUTBOXES, _scaled, is_service

if TYPE_CHECKING:
    from bench.soak_system import Soak


def line(sample: dict) -> str:
    errors = sum(sample["errors"].values())
    services_rss = sum(v for k, v in sample["rss_mib"].items() if is_service(k))
    cpu = sum(sample["cpu_pct"].values())
    return (
        f"{sample['t']:6.0f}s {sample['phase']:>8} rate {sample['rate']:5.1f}/s | accepted {sample['accepted_per_s']:5.1f}/s"
        f" err {errors:3d} | tasks done {sample['tasks_completed_per_s']:5.1f}/s | first task p50"
        f" {_ms(sample['first_task_p50_ms']):>5} p99 {_ms(sample['first_task_p99_ms']):>5} ms"
        f" awaiting {sample['awaiting_first_task']:4d} | open tasks {sample['open_tasks']:5d}"
        f" closed {sample['cases'].get('completed', 0):6d} | queued {sum(sample['queues'].values()):5d}"
        f" outbox {sum(sample['outbox'].values()):4d} notify {sample['notify_due']:4d} | services"
        f" {services_rss:6.0f} MiB | cpu {cpu:4.0f}% machine {sample['machine_busy_pct']:3.0f}%"
    )


def summary(soak: Soak, phases: list[dict], facts: dict, audited: dict, verdicts: list[dict]) -> dict:
    books, samples = soak.books, soak.samples
    feeding = [s for s in samples if s["phase"] != "drain"]
    seconds = sum(p["seconds"] for p in phases)
    latencies = list(books.latency.values())
    late_half = [
        books.latency[cid]
        for cid, due in books.due_of.items()
        if cid in books.latency and due >= soak.feed_wall + seconds / 2
    ]
    memory = {}
    for name in feeding[-1]["rss_mib"] if feeding else []:
        points = [(s["t"], s["rss_mib"].get(name, 0.0)) for s in feeding if name in s["rss_mib"]]
        per_minute, growth, flat = memory_verdict(points)
        cpu = [s["cpu_pct"].get(name, 0.0) for s in feeding[1:]]
        memory[name] = {
            "start_mib": points[0][1],
            "end_mib": points[-1][1],
            "max_mib": max(y for _, y in points),
            "slope_mib_per_min": per_minute,
            "growth_second_half_mib": growth,
            "flat": flat,
            "cpu_mean_pct": sum(cpu) / len(cpu) if cpu else 0.0,
        }
    completed = sum(n for key, n in books.staff.items() if key[0] == "completed")
    # CPU per complaint, while feeding and draining: what caps the rate on this machine's cores
    cpu_ms = {
        name: 10
        * sum(s["cpu_pct"].get(name, 0.0) * s["seconds"] for s in samples[1:])
        / max(1, books.accepted)
        for name in memory
    }
    return {
        "machine": facts,
        "settings": {key: value for key, value in vars(soak.args).items()},
        "phases": phases,
        "feeding_seconds": seconds,
        "complaints_sent": len(books.sends),
        "complaints_accepted": books.accepted,
        "accepted_per_s": books.accepted / seconds if seconds else 0.0,
        "statuses": dict(books.statuses),
        "tasks_completed": completed,
        "tasks_completed_per_s": completed / (seconds + soak.drain_seconds) if seconds else 0.0,
        "completed_by_element": {key[1]: n for key, n in books.staff.items() if key[0] == "completed"},
        "staff_conflicts": {key[1]: n for key, n in books.staff.items() if key[0] == "conflict"},
        "staff_errors": {f"{key[1]} {key[2]}": n for key, n in books.staff.items() if key[0] == "error"},
        "task_events": {key[1]: n for key, n in books.events.items()},
        "first_task_ms": percentiles(latencies),
        "first_task_ms_second_half": percentiles(late_half),
        "first_task_created_ms": percentiles(list(books.engine_latency.values())),
        "complete_ms": {k: _scaled(v) for k, v in percentiles(books.completion_seconds).items()},
        "send_lag_ms": percentiles([1000 * (sent - due) for due, sent, *_ in books.sends.values()]),
        "memory": memory,
        "cpu_ms_per_complaint": cpu_ms,
        "memory_flat": all(item["flat"] for name, item in memory.items() if is_service(name)),
        "audit": audited,
        "steps": verdicts,
    }


def print_summary(result: dict) -> None:
    print("\n=== soak summary ===")
    for key, value in result["machine"].items():
        print(f"  {key:12} {value}")
    print(
        f"  fed {result['feeding_seconds']:.0f} s: {result['complaints_sent']} sent, {result['complaints_accepted']}"
        f" accepted = {result['accepted_per_s']:.1f} complaints/s; statuses {result['statuses']}"
    )
    print(
        f"  tasks completed {result['tasks_completed']} = {result['tasks_completed_per_s']:.1f}/s"
        f" (feeding and draining); by element {result['completed_by_element']}"
    )
    print(f"  staff conflicts {result['staff_conflicts']}  staff errors {result['staff_errors'] or 'none'}")
    for label, key in (
        ("POST -> first task seen on tasks.<role>", "first_task_ms"),
        ("  the same, complaints of the second half", "first_task_ms_second_half"),
        ("POST -> first task created (envelope occurred_at)", "first_task_created_ms"),
        ("task complete request", "complete_ms"),
        ("send lag behind schedule", "send_lag_ms"),
    ):
        stats = result[key]
        print(
            f"  {label:52} p50 {_ms(stats['p50']):>6}  p90 {_ms(stats['p90']):>6}  p99 {_ms(stats['p99']):>6}"
            f"  max {_ms(stats['max']):>6} ms"
        )
    print("  memory and CPU by process (RSS MiB; slope over the second half of feeding):")
    for name, item in result["memory"].items():
        verdict = "flat" if item["flat"] else "GROWING"
        print(
            f"    {name:20} rss {item['start_mib']:7.1f} -> {item['end_mib']:7.1f} (max {item['max_mib']:7.1f})"
            f"  slope {item['slope_mib_per_min']:+6.2f} MiB/min  {verdict:7}  cpu {item['cpu_mean_pct']:5.1f}%"
        )
    print(f"  memory flat (services): {'yes' if result['memory_flat'] else 'NO'}")
    cpu = result["cpu_ms_per_complaint"]
    services = sum(ms for name, ms in cpu.items() if is_service(name))
    shown = ", ".join(
        f"{name} {ms:.0f}" for name, ms in sorted(cpu.items(), key=lambda item: -item[1]) if ms >= 1
    )
    print(
        f"  CPU ms per accepted complaint: services {services:.0f} + postgres"
        f" {cpu.get('postgres (this db)', 0):.0f} ({shown})"
    )
    print("  audit:")
    for key, value in result["audit"].items():
        print(f"    {key:20} {value}")
    for step in result["steps"]:
        print(
            f"  {step['rate']:6.1f}/s: accepted {step['accepted_per_s']:6.1f}/s, p99 {_ms(step['p99_ms'])} ms"
            f" (second half; whole step {_ms(step['p99_ms_whole_step'])} ms),"
            f" backlog slope {step['backlog_slope']:+.2f}/s, open tasks slope {step['open_tasks_slope']:+.2f}/s"
            f" -> {'sustained' if step['sustained'] else 'NOT sustained'} ({step['why']})"
        )


def plot(samples: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    t = [s["t"] for s in samples]
    figure, (rates, latency, depth, memory) = pyplot.subplots(4, 1, figsize=(12, 15), sharex=True)
    for axes in (depth, memory):  # more lines than the default ten colours
        axes.set_prop_cycle(color=[pyplot.get_cmap("tab20")(n) for n in range(20)])
    figure.suptitle(title, fontsize=10)
    rates.plot(t, [s["rate"] for s in samples], "k--", label="target complaints/s")
    rates.plot(t, [s["accepted_per_s"] for s in samples], label="complaints accepted/s")
    rates.plot(t, [s["tasks_completed_per_s"] for s in samples], label="tasks completed/s")
    rates.plot(t, [sum(s["errors"].values()) for s in samples], label="errors per sample")
    rates.set_ylabel("per second")
    latency.plot(t, [s["first_task_p50_ms"] for s in samples], label="POST -> first task p50")
    latency.plot(t, [s["first_task_p99_ms"] for s in samples], label="POST -> first task p99")
    latency.axhline(TARGET_P99_MS, color="r", linestyle=":", label="p99 target")
    latency.set_ylabel("ms")
    latency.set_ylim(bottom=0)
    busiest = sorted(
        {q for s in samples for q in s["queues"]}, key=lambda q: -max(s["queues"].get(q, 0) for s in samples)
    )
    busiest = [name for name in busiest if any(s["queues"].get(name) for s in samples)]
    for queue in busiest[:8]:
        depth.plot(t, [s["queues"].get(queue, 0) for s in samples], label=f"queue {queue}")
    for schema in OUTBOXES:
        depth.plot(t, [s["outbox"][schema] for s in samples], linestyle="--", label=f"outbox {schema}")
    depth.plot(t, [s["awaiting_first_task"] for s in samples], "k:", label="awaiting first task")
    depth.plot(t, [s["open_tasks"] for s in samples], "k-.", label="open tasks")
    depth.plot(t, [s["notify_due"] for s in samples], linestyle=":", label="notify deliveries due")
    depth.set_ylabel("messages / rows")
    for name in samples[-1]["rss_mib"]:
        if is_service(name) or name == "rabbitmq (shared)":
            memory.plot(t, [s["rss_mib"].get(name) for s in samples], label=name)
    memory.set_ylabel("RSS MiB")
    memory.set_xlabel("seconds since the first complaint")
    for axes in (rates, latency, depth, memory):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="upper left", ncol=3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def write_raw(folder: Path, soak: Soak, result: dict) -> None:
    (folder / "summary.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    (folder / "samples.json").write_text(json.dumps(soak.samples, default=str), encoding="utf-8")
    with (folder / "complaints.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "number",
                "due",
                "sent",
                "answered",
                "status",
                "complaint_id",
                "first_task_seen",
                "first_task_created",
                "first_task_ms",
            ]
        )
        for number, (due, sent, answered, status, complaint_id) in sorted(soak.books.sends.items()):
            seen, created = soak.books.first_task.get(complaint_id, (None, None))
            writer.writerow(
                [
                    number,
                    f"{due:.4f}",
                    f"{sent:.4f}",
                    f"{answered:.4f}",
                    status,
                    complaint_id,
                    seen and f"{seen:.4f}",
                    created and f"{created:.4f}",
                    _ms(soak.books.latency.get(complaint_id)),
                ]
            )

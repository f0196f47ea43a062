"""What bench/intake.py prints: the progress per level, the tables, the machine and the verdict."""

from __future__ import annotations

import json
import statistics

from bench.common import _fmt
from bench.intake_raw import RAW_VARIANTS
from bench.intake_server import SHARE_AT, TARGET_SHARE, Level


def print_table(title: str, levels: list[Level], raw: dict[int, Level] | None = None) -> None:
    print(f"\n{title}")
    header = f"{'clients':>7}  {'per s':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'errors':>6}"
    if raw:
        header += f"  {'raw/s':>8}  {'% of raw':>8}"
    header += f"  {'CPU ms/op: app':>14}  {'pg':>5}  {'client':>6}  {'others':>6}"
    print(header)
    for level in levels:
        line = (
            f"{level.clients:>7}  {level.rate:>8.1f}  {_fmt(level.p50_ms):>7}  {_fmt(level.p99_ms):>7}"
            f"  {level.errors:>6}"
        )
        base = (raw or {}).get(level.clients)
        if raw:
            share = f"{100 * level.rate / base.rate:.0f}%" if base and base.rate else "-"
            line += f"  {base.rate if base else 0:>8.1f}  {share:>8}"
        line += _cpu_columns(level)
        if level.notes:
            line += "  (" + "; ".join(level.notes) + ")"
        print(line, flush=True)


def _cpu_columns(level: Level) -> str:
    if level.cpu is None:
        return ""
    per_op = level.cpu.per_op_ms(level.ok)
    app = f"{per_op['app']:.2f}" if per_op and level.cpu.app else "-"
    pg = f"{per_op['postgres']:.2f}" if per_op else "-"
    client = f"{per_op['client']:.2f}" if per_op else "-"
    return f"  {app:>14}  {pg:>5}  {client:>6}  {level.cpu.others_share:>5.0f}%"


def _progress(kind: str, level: Level) -> None:
    others = f"  others {level.cpu.others_share:.0f}% CPU" if level.cpu else ""
    print(
        f"  {level.clients:>2} clients: {level.rate:8.1f} {kind}/s  p50 {_fmt(level.p50_ms)} ms"
        f"  p99 {_fmt(level.p99_ms)} ms  errors {level.errors}{others}",
        flush=True,
    )


def print_machine(results: dict) -> None:
    m, pg = results["machine"], results["postgres"]
    print(
        f"machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}\n"
        f"PostgreSQL {pg['server_version']} (synchronous_commit={pg['synchronous_commit']},"
        f" fsync={pg['fsync']}, shared_buffers={pg['shared_buffers']}), Python {m['python']}, {m['date']}",
        flush=True,
    )
    if results.get("idle_before", 0) > 10:
        print(
            f"warning: the machine was {results['idle_before']:.0f}% busy before the run;"
            " other processes' load lowers and scatters the figures (column 'others')",
            flush=True,
        )


def report(args, results, config, intake_levels, raw_levels) -> None:
    print("\n" + "=" * 78)
    print_machine(results)
    print(
        f"{args.seconds:g} s per level; POST /complaints with a service-desk token, any non-201 is an error"
    )
    raw = raw_levels.get("rows")
    if intake_levels:
        print(f"intake under gunicorn {config.describe()}, load from {results['client']}")
        print_table("intake complaints/s (raw = baseline commits/s, same clients)", intake_levels, raw)
    for variant, levels in raw_levels.items():
        print_table(f"raw {variant} commits/s: {RAW_VARIANTS[variant]}", list(levels.values()))
    at = next((x for x in intake_levels if x.clients == SHARE_AT), None)
    if at and raw and raw.get(SHARE_AT) and raw[SHARE_AT].rate:
        share = 100 * at.rate / raw[SHARE_AT].rate
        verdict = "meets" if share >= TARGET_SHARE else "misses"
        print(
            f"\nat {SHARE_AT} clients intake is {share:.0f}% of the raw baseline"
            f" ({at.rate:.0f} vs {raw[SHARE_AT].rate:.0f}/s): {verdict} the {TARGET_SHARE:.0f}% target"
        )
        results["share_at_8"] = share
    if results.get("pairs"):
        shares = sorted(pair["share"] for pair in results["pairs"])
        median = statistics.median(shares)
        verdict = "meets" if median >= TARGET_SHARE else "misses"
        print(
            f"\n{len(shares)} interleaved pairs at {SHARE_AT} clients: intake is {median:.0f}% of the raw"
            f" baseline (median; range {shares[0]:.0f}–{shares[-1]:.0f}%): {verdict} the"
            f" {TARGET_SHARE:.0f}% target"
        )
        results["share_at_8_pairs_median"] = median
    if intake_levels:
        print(
            f"no outbox relay ran under gunicorn: intake left {results['outbox_after_intake']} events"
            " unpublished in intake.outbox (the relay's cost is not in these figures)"
        )
    if args.json:
        results["intake"] = [vars(x) | {"rate": x.rate} for x in intake_levels]
        results["raw"] = {
            variant: [vars(x) | {"rate": x.rate} for x in levels.values()]
            for variant, levels in raw_levels.items()
        }
        results["share_target"] = TARGET_SHARE
        args.json.write_text(json.dumps(results, indent=2, default=str))

"""bench/soak.py's arithmetic and verdicts: slopes over the second half, flat memory, a backlog that
grows, percentiles, and whether a run or a --find-max step sustained its rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.common import _percentile

if TYPE_CHECKING:
    from bench.soak_system import Soak

TARGET_RATE, TARGET_P99_MS = 100.0, 500.0
FLAT_MIB, FLAT_SHARE = 5.0, 0.03  # RSS is flat when it grew less than this over the second half


# --------------------------------------------------------------------------- arithmetic


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y): y's change per unit of t (0 with fewer than two points)."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if spread == 0 else sum((t - mean_t) * (y - mean_y) for t, y in points) / spread


def second_half(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if not points:
        return []
    start, end = points[0][0], points[-1][0]
    return [(t, y) for t, y in points if t >= start + (end - start) / 2]


def memory_verdict(points: list[tuple[float, float]]) -> tuple[float, float, bool]:
    """(slope MiB/min, growth MiB over the second half, flat?) of (seconds, MiB) samples."""
    half = second_half(points)
    if len(half) < 2:
        return 0.0, 0.0, True
    per_second = slope(half)
    growth = per_second * (half[-1][0] - half[0][0])
    mean = sum(y for _, y in half) / len(half)
    return per_second * 60, growth, growth < max(FLAT_MIB, FLAT_SHARE * mean)


def backlog_grows(points: list[tuple[float, float]], rate: float) -> tuple[float, bool]:
    """(slope per second, growing?) of a backlog over the second half: growing when it rose by
    more than two seconds' worth of complaints (at least 20) over that half."""
    half = second_half(points)
    if len(half) < 2:
        return 0.0, False
    per_second = slope(half)
    return per_second, per_second * (half[-1][0] - half[0][0]) > max(2 * rate, 20)


def percentiles(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": _percentile(values, 0.5),
        "p90": _percentile(values, 0.9),
        "p99": _percentile(values, 0.99),
        "max": max(values) if values else None,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def judge(soak: Soak, phase: dict, verdicts: list[dict]) -> dict:
    numbers = range(phase["first"], phase["first"] + phase["count"])
    verdict = step_verdict(soak, phase["rate"], f"{phase['rate']:g}/s", numbers, phase["seconds"])
    verdicts.append(verdict)
    print(
        f"    {phase['rate']:g}/s: {'sustained' if verdict['sustained'] else 'NOT sustained'}: {verdict['why']}"
    )
    return verdict


def step_verdict(soak: Soak, rate: float, phase: str, numbers: range, seconds: float) -> dict:
    """Whether a --find-max step was sustained. The latency is judged on the complaints of the
    step's second half, the steady state: the first seconds of a step (and of the system) warm up."""
    samples = [s for s in soak.samples if s["phase"] == phase]
    ids = [soak.books.sends[n][4] for n in numbers if n in soak.books.sends]
    accepted_ids = [cid for cid in ids if cid]
    late = set(accepted_ids[len(accepted_ids) // 2 :])
    seen = [soak.books.latency[cid] for cid in late if cid in soak.books.latency]
    missing = len(late) - len(seen)
    p99 = _percentile(seen, 0.99) if missing <= 0.01 * max(1, len(late)) else None
    everything = [soak.books.latency[cid] for cid in accepted_ids if cid in soak.books.latency]
    accepted = len(accepted_ids) / seconds
    backlog_slope, growing = backlog_grows([(s["t"], soak.backlog(s)) for s in samples], rate)
    open_slope, open_growing = backlog_grows([(s["t"], s["open_tasks"]) for s in samples], rate)
    why = []
    if accepted < 0.95 * rate:
        why.append(f"accepted {accepted:.1f}/s < 95% of the rate")
    if p99 is None:
        why.append(f"{missing} complaints without a first task")
    elif p99 >= soak.args.p99_ms:
        why.append(f"p99 {p99:.0f} ms >= {soak.args.p99_ms:.0f}")
    if growing:
        why.append("backlog growing")
    if open_growing:
        why.append("open tasks growing")
    return {
        "rate": rate,
        "accepted_per_s": accepted,
        "p99_ms": p99,
        "p99_ms_whole_step": _percentile(everything, 0.99),
        "backlog_slope": backlog_slope,
        "open_tasks_slope": open_slope,
        "sustained": not why,
        "why": "; ".join(why) or "all criteria met",
    }

"""A report as titled tables (item, this period, previous period): what every file format prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.reporting.rendering.labels import labels, value

Cell = str | int | float | None


@dataclass(frozen=True)
class Section:
    key: str  # stable name (csv's first column)
    title: str
    columns: tuple[str, str, str]  # item, this period, previous (the trend: day, received, resolved)
    rows: list[tuple[str, Cell, Cell]]


def sections(report: dict[str, Any], lang: str) -> list[Section]:
    words, now, before = labels(lang), report["current"], report["previous"]
    columns = (words["item"], f"{words['current']} {report['period']['label']}",
               f"{words['previous']} {report['previous_period']['label']}")  # fmt: skip
    compared = {
        "summary": _summary(now, before, words),
        **{
            key: _compare(now[key], before[key], lang)
            for key in ("by_category", "by_channel", "by_floor", "by_merchant", "by_department", "by_request")
        },
        "by_level": _compare(now["escalations"]["by_level"], before["escalations"]["by_level"], lang),
        "top_merchants": _compare(now["top_merchants"], before["by_merchant"], lang),
        "top_problems": _problems(now, before, lang),
    }
    found = [Section(key, words[key], columns, rows) for key, rows in compared.items()]
    trend = [(day["day"], day["received"], day["resolved"]) for day in now["trend"]]
    found.append(
        Section("trend", words["trend"], (words["day"], words["received"], words["resolved"]), trend)
    )
    return found


def _summary(now: dict, before: dict, words: dict[str, str]) -> list[tuple[str, Cell, Cell]]:
    def both(pick) -> tuple[Cell, Cell]:
        return pick(now), pick(before)

    return [
        (words["received"], *both(lambda f: f["received"])),
        (words["resolved"], *both(lambda f: f["resolved"])),
        (words["closed"], *both(lambda f: f["closed"])),
        (words["closed_no_answer"], *both(lambda f: f["closed_no_answer"])),
        (words["closed_no_contact"], *both(lambda f: f["closed_no_contact"])),
        (words["on_time_reply"], *both(lambda f: _percent(f["on_time_reply"]["rate"]))),
        (words["median_hours"], *both(lambda f: f["time_to_resolve_hours"]["median"])),
        (words["p90_hours"], *both(lambda f: f["time_to_resolve_hours"]["p90"])),
        (words["escalations"], *both(lambda f: f["escalations"]["total"])),
        (words["satisfaction"], *both(lambda f: _percent(f["callback"]["rate"]))),
        (words["reopen_rate"], *both(lambda f: _percent(f["reopen"]["rate"]))),
    ]


def _compare(now: list[dict], before: list[dict], lang: str) -> list[tuple[str, Cell, Cell]]:
    """This period's items in its order, each with the previous period's count beside it."""
    previous = {item["key"]: item["count"] for item in before}
    return [(_name(item, lang), item["count"], previous.get(item["key"], 0)) for item in now]


def _problems(now: dict, before: dict, lang: str) -> list[tuple[str, Cell, Cell]]:
    previous = {item["key"]: item["count"] for item in before["top_problems"]}
    rows = []
    for item in now["top_problems"]:
        place = item["merchant_name"] or item["merchant_code"] or item["floor"] or item["department"] or ""
        rows.append(
            (f"{value(item['category'], lang)} · {place}", item["count"], previous.get(item["key"], 0))
        )
    return rows


def _name(item: dict, lang: str) -> str:
    if item.get("name"):
        return f"{item['name']} ({item['key']})"
    return value(item["key"], lang)


def _percent(rate: float | None) -> str | None:
    return None if rate is None else f"{rate * 100:.1f}%"

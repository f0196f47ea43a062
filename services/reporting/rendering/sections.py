"""A report as titled tables (item, this period, previous period): what every file format prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.reporting.rendering.words import chosen, place, shop, short_span, value, words, yuan

Cell = str | int | float | None


class Figure(str):
    """A cell as the reader reads it (1,250.00; 72.2%) that keeps the number it shows: the workbook
    writes the number, in the same format, so a spreadsheet can add it up."""

    number: float
    number_format: str

    def __new__(cls, text: str, number: float, number_format: str) -> Figure:
        made = super().__new__(cls, text)
        made.number, made.number_format = number, number_format
        return made


def money(text: str, lang: str) -> Figure:
    """An amount in yuan as the language writes numbers (1,250.00), keeping the amount."""
    return Figure(yuan(text, lang), float(text), "#,##0.00")


@dataclass(frozen=True)
class Section:
    key: str  # stable name (the HTML's anchors)
    title: str
    columns: tuple[str, str, str]  # item, this period, previous (the trend: day, received, resolved)
    rows: list[tuple[str, Cell, Cell]]


def columns(report: dict[str, Any], lang: str) -> tuple[str, str, str]:
    """Item, 本期 12月1日 – 6日, 上期 11月1日 – 6日."""
    said = words(lang)
    return (
        said["item"],
        f"{said['current']} {_span(report['period'], lang)}",
        f"{said['previous']} {_span(report['previous_period'], lang)}",
    )


def sections(report: dict[str, Any], lang: str) -> list[Section]:
    said, now, before = words(lang), report["current"], report["previous"]
    term = lambda item: value(item["key"], lang)  # noqa: E731
    named = {
        "by_category": term,
        "by_channel": term,
        "by_request": term,
        "by_floor": lambda item: place(report, "floors", item["key"], lang),
        "by_department": lambda item: place(report, "departments", item["key"], lang),
        "by_merchant": lambda item: shop(item.get("name"), item.get("unit"), item["key"], lang),
        "by_responsible_party": lambda item: chosen(item, lang),
        "by_root_cause": lambda item: chosen(item, lang),
    }
    compared = {
        "summary": _summary(now, before, said, lang),
        **{key: _compare(now[key], before[key], name) for key, name in named.items()},
        "by_level": _compare(now["escalations"]["by_level"], before["escalations"]["by_level"], term),
        "top_merchants": _compare(now["top_merchants"], before["by_merchant"], named["by_merchant"]),
        "top_problems": _problems(report, lang),
        "cost_by_responsible_party": _costs(now, before, lang),
    }
    found = [Section(key, said[key], columns(report, lang), rows) for key, rows in compared.items()]
    trend = [(_day(day["day"], lang), day["received"], day["resolved"]) for day in now["trend"]]
    found.append(Section("trend", said["trend"], (said["day"], said["received"], said["resolved"]), trend))
    return found


def _span(period: dict[str, Any], lang: str) -> str:
    return short_span(date.fromisoformat(period["first_day"]), date.fromisoformat(period["last_day"]), lang)


def _day(text: str, lang: str) -> str:
    return short_span(date.fromisoformat(text), date.fromisoformat(text), lang)


def _summary(now: dict, before: dict, said: dict[str, str], lang: str) -> list[tuple[str, Cell, Cell]]:
    figures = {
        "received": lambda f: f["received"],
        "resolved": lambda f: f["resolved"],
        "closed": lambda f: f["closed"],
        "closed_no_answer": lambda f: f["closed_no_answer"],
        "closed_no_contact": lambda f: f["closed_no_contact"],
        "on_time_reply": lambda f: _percent(f["on_time_reply"]["rate"]),
        "median_hours": lambda f: f["time_to_resolve_hours"]["median"],
        "p90_hours": lambda f: f["time_to_resolve_hours"]["p90"],
        "escalations": lambda f: f["escalations"]["total"],
        "satisfaction": lambda f: _percent(f["callback"]["rate"]),
        "reopen_rate": lambda f: _percent(f["reopen"]["rate"]),
        "cost": lambda f: money(f["cost"], lang),
    }
    return [(said[key], pick(now), pick(before)) for key, pick in figures.items()]


def _compare(
    now: list[dict], before: list[dict], name: Callable[[dict], str]
) -> list[tuple[str, Cell, Cell]]:
    """This period's items in its order, each with the previous period's count beside it."""
    previous = {item["key"]: item["count"] for item in before}
    return [(name(item), item["count"], previous.get(item["key"], 0)) for item in now]


def _costs(now: dict, before: dict, lang: str) -> list[tuple[str, Cell, Cell]]:
    """The cost to the mall of the cases closed, by responsible party, in yuan."""
    previous = {item["key"]: item["cost"] for item in before["by_responsible_party"]}
    return [
        (chosen(item, lang), money(item["cost"], lang), money(previous.get(item["key"], "0"), lang))
        for item in now["by_responsible_party"]
    ]


def _problems(report: dict[str, Any], lang: str) -> list[tuple[str, Cell, Cell]]:
    previous = {item["key"]: item["count"] for item in report["previous"]["top_problems"]}
    rows = []
    for item in report["current"]["top_problems"]:
        where = (
            shop(item["merchant_name"], item.get("merchant_unit"), item["merchant_code"], lang)
            if item["merchant_code"]
            else place(report, "floors", item["floor"], lang)
            or place(report, "departments", item["department"], lang)
        )
        rows.append(
            (f"{value(item['category'], lang)} · {where}", item["count"], previous.get(item["key"], 0))
        )
    return rows


def _percent(rate: float | None) -> Figure | None:
    return None if rate is None else Figure(f"{rate * 100:.1f}%", rate, "0.0%")

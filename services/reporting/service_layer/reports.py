"""The weekly and monthly reports (工作周报 / 月报): a period's figures with the previous period beside them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from services.reporting.adapters.report_queries import Window
from services.reporting.domain.periods import Period
from services.reporting.service_layer.unit_of_work import UnitOfWork

TOP = 10
DIMENSIONS = ("category", "channel", "floor", "merchant_code", "department", "day", "problem_key")


def build_report(
    uow: UnitOfWork, mall_id: str, period: Period, zone: ZoneInfo, now: datetime, scope=None
) -> dict[str, Any]:
    """The report of `period` and of the period before it, for the whole mall or a scope."""
    previous = period.previous()
    return {
        "period": describe(period),
        "previous_period": describe(previous),
        "generated_at": now.isoformat(),
        "scope": None if scope is None else {"floors": sorted(scope[0]), "departments": sorted(scope[1])},
        "current": figures(uow, mall_id, period, zone, now, scope),
        "previous": figures(uow, mall_id, previous, zone, now, scope),
    }


def describe(period: Period) -> dict[str, Any]:
    """A period as the report's answer gives it; `complete` is false for this month (or week) so far."""
    return {
        "kind": period.kind,
        "label": period.label,
        "first_day": period.first.isoformat(),
        "last_day": period.last.isoformat(),
        "complete": period.complete,
    }


def figures(
    uow: UnitOfWork, mall_id: str, period: Period, zone: ZoneInfo, now: datetime, scope=None
) -> dict[str, Any]:
    start, end = period.bounds(zone)
    rows = uow.reports.run(Window(mall_id, start, end, zone.key, now, scope))
    received = _by_dimension(rows["received"])
    resolved_total = rows["resolved"][0]
    resolved_days = {row["day"]: row["count"] for row in rows["resolved_days"]}
    received_days = {row["day"]: row["count"] for row in received["day"]}
    closed, replies, callbacks = rows["closed"][0], rows["replies"][0], rows["callbacks"][0]
    names = {(row["field"], row["code"]): row["names"] for row in rows["closing_names"]}
    return {
        "received": received["total"][0]["count"] if received["total"] else 0,
        "resolved": resolved_total["count"],
        "closed": closed["closed"],
        # Apart: a customer called back in vain, and an anonymous note nobody could be told of.
        "closed_no_answer": closed["no_answer"],
        "closed_no_contact": closed["no_contact"],
        "by_category": _counts(received["category"], "category"),
        "by_channel": _counts(received["channel"], "channel"),
        "by_floor": _counts(received["floor"], "floor"),
        "by_merchant": _counts(received["merchant_code"], "merchant_code", name="merchant_name"),
        "by_department": _counts(received["department"], "department"),
        "by_request": _counts(rows["requests"], "request"),
        # the cost to the mall of the cases closed, and what they were put down to
        "cost": _yuan(closed["cost"]),
        "by_responsible_party": _closing(rows["closed"], "responsible_party", names),
        "by_root_cause": _closing(rows["closed"], "root_cause", names),
        "on_time_reply": _share(replies["on_time"], replies["on_time"] + replies["late"], "on_time", "due"),
        "time_to_resolve_hours": _hours(resolved_total),
        "escalations": _escalations(rows["escalations"]),
        "callback": {
            "calls": callbacks["calls"],
            **_share(callbacks["satisfied"], callbacks["reached"], "satisfied", "reached"),
        },
        "reopen": _share(closed["reopened"], closed["closed"], "reopened", "closed"),
        "top_merchants": _counts(received["merchant_code"], "merchant_code", name="merchant_name")[:TOP],
        "top_problems": _problems(received["problem_key"]),
        "trend": [
            {
                "day": day.isoformat(),
                "received": received_days.get(day, 0),
                "resolved": resolved_days.get(day, 0),
            }
            for day in period.days
        ],
    }


def _by_dimension(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of a GROUPING SETS query, sorted into the dimension each grouped by."""
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in (*DIMENSIONS, "total")}
    for row in rows:
        grouped = [
            name
            for index, name in enumerate(DIMENSIONS)
            if not row["grouping_id"] & (1 << (len(DIMENSIONS) - 1 - index))
        ]
        found[grouped[0] if grouped else "total"].append(row)
    return found


def _counts(rows: list[dict[str, Any]], column: str, name: str | None = None) -> list[dict[str, Any]]:
    """Largest first; complaints without the dimension (no merchant, no department) are left out. A
    shop comes with its name and unit."""
    named = (lambda row: {"name": row[name], "unit": row["merchant_unit"]}) if name else (lambda row: {})
    items = [
        {"key": row[column], **named(row), "count": row["count"]} for row in rows if row[column] is not None
    ]
    return sorted(items, key=lambda item: (-item["count"], item["key"]))


def _closing(rows: list[dict[str, Any]], column: str, names: dict) -> list[dict[str, Any]]:
    """Closed cases by one closing choice, largest first, each with its cost to the mall and the names
    its form gave it (language -> name; "" the name drawn); cases closed without it are left out."""
    items = [
        {
            "key": row[column],
            "names": names.get((column, row[column]), {}),
            "count": row["closed"],
            "cost": _yuan(row["cost"]),
        }
        for row in rows
        if row["grouping_id"] != 3 and row[column] is not None
    ]
    return sorted(items, key=lambda item: (-item["count"], item["key"]))


def _yuan(value: Decimal | int) -> str:
    """An amount in yuan as the APIs write amounts: 1250.00."""
    return f"{Decimal(value):.2f}"


def _problems(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Problems met more than once in the period (the same category at the same place), most frequent first."""
    recurring = [row for row in rows if row["problem_key"] is not None and row["count"] > 1]
    recurring.sort(key=lambda row: (-row["count"], row["problem_key"]))
    return [
        {
            "key": row["problem_key"],
            "category": row["problem_category"],
            "merchant_code": row["problem_merchant"],
            "merchant_name": row["merchant_name"],
            "merchant_unit": row["merchant_unit"],
            "floor": row["problem_floor"],
            "department": row["problem_department"],
            "count": row["count"],
        }
        for row in recurring[:TOP]
    ]


def _share(part: int, whole: int, part_name: str, whole_name: str) -> dict[str, Any]:
    return {whole_name: whole, part_name: part, "rate": round(part / whole, 4) if whole else None}


def _hours(total: dict[str, Any]) -> dict[str, Any]:
    median, p90 = total["percentiles"] or (None, None)

    def hours(seconds: Any) -> float | None:
        return round(float(seconds) / 3600, 2) if seconds is not None else None

    return {"count": total["count"], "median": hours(median), "p90": hours(p90)}


def _escalations(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_level = sorted(
        ({"key": row["level"], "count": row["count"]} for row in rows),
        key=lambda item: (-item["count"], item["key"] or ""),
    )
    return {"total": sum(item["count"] for item in by_level), "by_level": by_level}

"""The operations manager's daily review (每日审查): the day's new, overdue, escalated and resolved cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.reporting.adapters.report_queries import Window
from services.reporting.domain.periods import day_of
from services.reporting.service_layer.unit_of_work import UnitOfWork

ITEM_FIELDS = (
    "complaint_id",
    "number",
    "received_at",
    "channel",
    "category",
    "severity",
    "floor",
    "merchant_code",
    "merchant_name",
    "department",
    "first_queue",
    "open_queues",
    "reply_due_at",
    "first_replied_at",
    "next_task_due_at",
    "resolved_at",
    "closed_at",
)


def daily_review(
    uow: UnitOfWork, mall_id: str, day: date, zone: ZoneInfo, now: datetime, limit: int, scope=None
) -> dict[str, Any]:
    """Each list with its size and its first `limit` items; overdue is as of now (or the day's end, for a
    past day), judged on what is known of the cases now."""
    start, end = day_of(day).bounds(zone)
    as_of = min(now, end)
    lists = uow.reviews.run(Window(mall_id, start, end, zone.key, as_of, scope), limit)
    review: dict[str, Any] = {"date": day.isoformat(), "as_of": as_of.isoformat()}
    for name, rows in lists.items():
        review[name] = {"count": rows[0]["total"] if rows else 0, "items": [_item(row) for row in rows]}
    return review


def _item(row: dict[str, Any]) -> dict[str, Any]:
    item = {name: row[name] for name in ITEM_FIELDS}
    item["open_queues"] = list(row["open_queues"])
    if "levels" in row:
        item["escalated_to"] = [level for level in row["levels"] if level]
    return item

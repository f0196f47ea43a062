"""A stream of events for a known set of cases gives exactly the figures the stories imply, computed here
from the stories alone; replayed twice, shuffled within each case, or rebuilt from the stored events,
it gives the same."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from services.reporting.domain.commands import RebuildReadModel
from tests.integration.reporting.conftest import table
from tests.support.stories import CAUSES, MERCHANTS, PARTIES, ZONE, Round, Story, corrected, events

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
CATEGORIES = ("price", "quality", "merchant_service", "environment", "facility")
CHANNELS = ("phone", "on_site", "web", "letter")
LEVELS = ("operations_manager", "deputy_store_manager", "store_manager")
# What the customers ask for: nothing, one thing, or two at once.
REQUESTS = (
    [],
    ["refund"],
    ["exchange"],
    ["repair"],
    ["refund", "apology"],
    ["compensation", "apology"],
    ["other"],
)


def make_stories(seed: int = 7, count: int = 70) -> list[Story]:
    """Cases received from mid-September to the end of November, every path mixed."""
    rng = random.Random(seed)
    asks = random.Random(seed + 1)  # drawn apart, so every other draw of the cases stays as it was
    closing = random.Random(seed + 2)
    stories = []
    for index in range(count):
        received = datetime(2026, 9, 20, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 72 * 24 * 60))
        merchant = rng.choice([*MERCHANTS, None, None])
        story = Story(
            received_at=received,
            category=rng.choice(CATEGORIES),
            channel=rng.choice(CHANNELS),
            merchant=merchant,
            floor=None if merchant else rng.choice(["B1", "4F"]),
            department=None if merchant else rng.choice(["cleaning", "engineering"]),
            requests=list(asks.choice(REQUESTS)),
            declared=index % 4 != 0,
        )  # every fourth a case of a diagram that announced neither event
        story.responsible_party, _, _ = closing.choice(PARTIES)
        story.root_cause, _, _ = closing.choice(CAUSES)
        story.cost = closing.choice([0, 0, 50, 120])
        if index % 4 == 1:  # a diagram whose designer renamed both tasks: the announced events still count
            story.agree_task, story.callback_task = "agree_new_date", "call_customer"
        _tell(story, rng)
        stories.append(story)
    return stories


def _tell(story: Story, rng: random.Random) -> None:
    at = story.received_at
    if rng.random() < 0.2:
        story.postponed_to = [
            story.promised + timedelta(days=3 * (n + 1)) for n in range(rng.choice([1, 2, 3]))
        ]
    for _ in range(rng.choice([0, 0, 1, 2])):
        at += timedelta(hours=rng.randrange(20, 30))
        story.escalations.append((at, rng.choice(LEVELS)))
    if rng.random() < 0.1:
        return  # still with its first handler
    for _ in range(3):  # handled again after each reopening, up to three times
        resolved = at + timedelta(minutes=rng.randrange(120, 9000))
        replied = resolved + timedelta(hours=rng.randrange(1, 30)) if rng.random() < 0.9 else None
        callback = (
            replied + timedelta(hours=rng.randrange(24, 48)) if replied and rng.random() < 0.8 else None
        )
        story.rounds.append(Round(resolved, replied, callback, rng.random() < 0.8, rng.random() < 0.6))
        at = callback or replied or resolved
        if not story.rounds[-1].reopens:
            break
    if story.standing_resolution and rng.random() < 0.85:
        story.closed_at = at + timedelta(hours=rng.randrange(1, 10))
        last = story.rounds[-1]
        if last.callback_at and not last.reached:
            story.closed_as = "no_answer"
        elif not story.first_reply:
            story.closed_as = "no_contact"  # nobody to reply to: an anonymous note


# ----------------------------------------------------------------------------- expected, from stories


def _within(moment, start, end) -> bool:
    return moment is not None and start <= moment < end


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered, position = sorted(values), fraction * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _counts(values) -> list[dict]:
    return sorted(
        ({"key": key, "count": n} for key, n in Counter(v for v in values if v).items()),
        key=lambda item: (-item["count"], item["key"]),
    )


def _closing(closed: list[Story], choice: str, options: tuple) -> list[dict]:
    """Closed cases by a closing choice, with their cost and the names the close form gives it."""
    names = {code: {"zh-CN": zh, "": drawn} for code, drawn, zh in options}
    counted = _counts(getattr(s, choice) for s in closed)
    for item in counted:
        item["names"] = names[item["key"]]
        item["cost"] = f"{sum(s.cost for s in closed if getattr(s, choice) == item['key']):.2f}"
    return counted


def _rate(part: int, whole: int):
    return round(part / whole, 4) if whole else None


def expected(stories: list[Story], first: date, last: date) -> dict:
    start = datetime.combine(first, datetime.min.time(), ZONE)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), ZONE)
    received = [s for s in stories if _within(s.received_at, start, end)]
    resolved = [s for s in stories if _within(s.standing_resolution, start, end)]
    due = [s for s in stories if _within(s.reply_due, start, end) and s.closed_as != "no_contact"]
    late = [
        s
        for s in due
        if (s.first_reply and s.first_reply > s.reply_due)
        or (not s.first_reply and s.reply_due < NOW and not (s.closed_at and s.closed_at <= s.reply_due))
    ]
    on_time = [s for s in due if s.first_reply and s.first_reply <= s.reply_due]
    hours = [(s.standing_resolution - s.received_at).total_seconds() / 3600 for s in resolved]
    escalations = [level for s in stories for at, level in s.escalations if _within(at, start, end)]
    calls = [call for s in stories for call in s.callbacks if _within(call[0], start, end)]
    closed = [s for s in stories if _within(s.closed_at, start, end)]
    merchants = _counts(s.merchant for s in received)
    for item in merchants:
        item["name"], item["unit"] = MERCHANTS[item["key"]][0], None  # the stories give no unit
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {
        "received": len(received),
        "resolved": len(resolved),
        "closed": len(closed),
        "closed_no_answer": sum(1 for s in closed if s.closed_as == "no_answer"),
        "closed_no_contact": sum(1 for s in closed if s.closed_as == "no_contact"),
        "by_category": _counts(s.category for s in received),
        "by_channel": _counts(s.channel for s in received),
        "by_floor": _counts(s.floor for s in received),
        "by_merchant": merchants,
        "by_department": _counts(s.department for s in received),
        "by_request": _counts(request for s in received for request in s.requests),
        "cost": f"{sum(s.cost for s in closed):.2f}",
        "by_responsible_party": _closing(closed, "responsible_party", PARTIES),
        "by_root_cause": _closing(closed, "root_cause", CAUSES),
        "on_time_reply": {
            "due": len(on_time) + len(late),
            "on_time": len(on_time),
            "rate": _rate(len(on_time), len(on_time) + len(late)),
        },
        "time_to_resolve_hours": {
            "count": len(hours),
            "median": _round(_percentile(hours, 0.5)),
            "p90": _round(_percentile(hours, 0.9)),
        },
        "escalations": {"total": len(escalations), "by_level": _counts(escalations)},
        "callback": {
            "calls": len(calls),
            "reached": sum(1 for c in calls if c[1]),
            "satisfied": sum(1 for c in calls if c[1] and c[2]),
            "rate": _rate(sum(1 for c in calls if c[1] and c[2]), sum(1 for c in calls if c[1])),
        },
        "reopen": {
            "closed": len(closed),
            "reopened": sum(1 for s in closed if s.reopened),
            "rate": _rate(sum(1 for s in closed if s.reopened), len(closed)),
        },
        "top_merchants": merchants[:10],
        "top_problems": [item["key"] for item in _counts(s.problem for s in received) if item["count"] > 1][
            :10
        ],
        "trend": [
            {
                "day": day.isoformat(),
                "received": sum(1 for s in received if s.received_at.astimezone(ZONE).date() == day),
                "resolved": sum(1 for s in resolved if s.standing_resolution.astimezone(ZONE).date() == day),
            }
            for day in days
        ],
    }


def _round(value):
    return None if value is None else round(value, 2)


def actual(figures: dict) -> dict:
    """The report's figures in the shape `expected` gives (problems by key)."""
    return {**figures, "top_problems": [item["key"] for item in figures["top_problems"]]}


# ----------------------------------------------------------------------------- tests


@pytest.fixture
def stories(clock):
    clock.set(NOW)
    return make_stories()


def monthly(api, staff, month: str = "2026-11") -> dict:
    answer = api.get(f"/reports/monthly?month={month}", headers=staff("operations_manager"))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_a_stream_of_events_gives_exactly_the_figures_of_its_cases(stories, feed, api, staff):
    feed(event for story in stories for event in events(story))

    report = monthly(api, staff)

    assert report["period"] == {
        "kind": "month",
        "label": "2026-11",
        "first_day": "2026-11-01",
        "last_day": "2026-11-30",
        "complete": True,
    }
    assert actual(report["current"]) == expected(stories, date(2026, 11, 1), date(2026, 11, 30))
    assert actual(report["previous"]) == expected(stories, date(2026, 10, 1), date(2026, 10, 31))
    figures = report["current"]
    assert (
        figures["received"] > 20 and figures["escalations"]["total"] > 5 and figures["reopen"]["reopened"] > 0
    )
    weekly = api.get("/reports/weekly?week=2026-W46", headers=staff("service_desk")).json
    assert actual(weekly["current"]) == expected(stories, date(2026, 11, 9), date(2026, 11, 15))


def test_requests_count_as_intake_last_recorded_them_corrected_or_as_an_old_single_code(
    feed, api, staff, clock
):
    clock.set(NOW)
    received = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    both, old, changed = (Story(received_at=received + timedelta(hours=n)) for n in range(3))
    both.requests = ["refund", "apology"]
    stream = [*events(both), *events(old), *events(changed)]
    old_receipt = next(
        event for event in stream if event.type == "complaint.received" and event.complaint_id == old.id
    )
    old_receipt.payload["customer_request"] = "apology"  # as intake published it before a list
    # the desk corrects the request: the complaint asks for compensation and an apology instead of a refund
    stream.append(
        corrected(changed, received + timedelta(hours=5), customer_request=["compensation", "apology"])
    )
    feed(stream)

    figures = monthly(api, staff)["current"]

    assert figures["by_request"] == [
        {"key": "apology", "count": 3},
        {"key": "compensation", "count": 1},
        {"key": "refund", "count": 1},
    ]


def test_the_same_stream_replayed_twice_or_shuffled_within_each_case_gives_the_same_figures(
    stories, feed, api, staff, reporting
):
    streams = [events(story) for story in stories]
    feed(event for stream in streams for event in stream)
    first = monthly(api, staff)

    assert feed(event for stream in streams for event in stream) == 0  # the event store knows every one
    with reporting.pool.connection() as conn:  # forget everything, then the shuffled stream
        conn.execute(
            "TRUNCATE reporting.events, reporting.cases, reporting.escalations, reporting.callbacks,"
            " reporting.inbox, reporting.capa"
        )
    shuffler = random.Random(11)
    for stream in streams:
        shuffler.shuffle(stream)
    interleaved = [event for stream in streams for event in stream]
    shuffler.shuffle(interleaved)
    feed(interleaved)

    assert monthly(api, staff)["current"] == first["current"]
    assert monthly(api, staff)["previous"] == first["previous"]


def test_events_redelivered_are_known_by_the_event_store_kept_once_and_change_nothing(
    stories, feed, reporting
):
    stream = [event for story in stories[:10] for event in events(story)]
    feed(stream)
    live = [table(reporting, name, order) for name, order in TABLES]

    assert feed(stream) == 0  # the stored events are reporting's inbox

    again = [table(reporting, name, order) for name, order in TABLES]
    assert [_without_timestamps(rows) for rows in again] == [_without_timestamps(rows) for rows in live]
    assert len(table(reporting, "events", "id")) == len(stream)  # every event, known or not


def test_a_rebuild_from_the_stored_events_equals_the_live_model(stories, feed, reporting):
    feed(event for story in stories for event in events(story))
    live = [table(reporting, name, order) for name, order in TABLES]

    assert reporting.bus.handle(RebuildReadModel()) == len(stories)

    rebuilt = [table(reporting, name, order) for name, order in TABLES]
    assert [_without_timestamps(rows) for rows in rebuilt] == [_without_timestamps(rows) for rows in live]


TABLES = (("cases", "complaint_id"), ("escalations", "event_id"), ("callbacks", "event_id"))


def _without_timestamps(rows: list[dict]) -> list[dict]:
    return [{key: value for key, value in row.items() if key != "updated_at"} for row in rows]

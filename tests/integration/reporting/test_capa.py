"""A recurring problem opens exactly one CAPA record for the operations manager, who then keeps it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.reporting.adapters.capa import CapaStore
from tests.integration.reporting.conftest import table
from tests.support.stories import Story, corrected, events

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def same_problem(days: list[float], **story) -> list[Story]:
    return [
        Story(received_at=T0 + timedelta(days=day), category="quality", merchant="M-2F-003", **story)
        for day in days
    ]


def capa_events(reporting) -> list[dict]:
    with reporting.pool.connection() as conn:
        return conn.execute(
            "SELECT envelope FROM reporting.outbox WHERE routing_key = 'capa.opened' ORDER BY created_at"
        ).fetchall()


def test_a_recurring_problem_opens_exactly_one_capa_record_whatever_the_order(feed, reporting, api, staff):
    recurring = same_problem([0, 10, 20, 25, 60])
    others = [
        Story(received_at=T0, category="quality", merchant="M-3F-001"),  # same category, other shop
        Story(received_at=T0 + timedelta(days=1), category="price", merchant="M-2F-003"),
    ]  # other category
    streams = [events(story) for story in [*others, *reversed(recurring)]]  # the newest complaints first
    feed(event for stream in streams for event in stream)
    feed(event for stream in streams for event in stream)  # redelivered: nothing more

    [record] = table(reporting, "capa", "opened_at")
    assert (record["category"], record["merchant_code"], record["status"]) == ("quality", "M-2F-003", "open")
    # 60, 25, 20 are no recurrence yet; 10 makes one, which holds every complaint of the problem since; 0 joins
    assert set(record["complaint_ids"]) == {story.id for story in recurring}
    [opened] = capa_events(reporting)
    assert opened["envelope"]["payload"]["problem_key"] == "quality|merchant:M-2F-003"
    assert opened["envelope"]["payload"]["occurrences"] >= 3
    assert opened["envelope"]["payload"]["queue"] == "operations_manager"
    listed = api.get("/capa?status=open", headers=staff("operations_manager")).json["items"]
    assert [item["id"] for item in listed] == [str(record["id"])]


def test_the_operations_manager_keeps_the_record_until_it_is_verified(feed, reporting, api, staff):
    feed(event for story in same_problem([0, 1, 2]) for event in events(story))
    [record] = table(reporting, "capa", "opened_at")
    url, ops = f"/capa/{record['id']}", staff("operations_manager")

    planned = api.patch(
        url, json={"cause": "冷藏柜温度失控", "owner": "营运部 陈敏", "due_date": "2026-11-30"}, headers=ops
    )
    early = api.patch(url, json={"status": "verified"}, headers=ops)
    blank = api.patch(
        url,
        json={"action": "  ", "verification": "\n", "status": "verified"},
        headers={**ops, "Accept-Language": "zh-CN"},
    )
    stale = api.patch(url, json={"action": "x", "version": 1}, headers=ops)
    done = api.patch(
        url,
        json={
            "action": "更换冷柜并每日巡检",
            "verification": "两周无复发",
            "status": "verified",
            "version": planned.json["version"],
        },
        headers=ops,
    )
    again = api.patch(url, json={"cause": "y"}, headers=ops)

    assert planned.status_code == 200 and planned.json["status"] == "in_progress"
    assert early.status_code == 400 and set(early.json["errors"]["json"]) == {"action", "verification"}
    assert blank.status_code == 400 and blank.json["errors"]["json"] == {
        "action": ["确认有效前必须填写"],
        "verification": ["确认有效前必须填写"],
    }
    assert stale.status_code == 409
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["verified_by"]) == ("verified", "operations_manager-1")
    assert again.status_code == 409
    assert api.patch(url, json={"cause": "z"}, headers=staff("service_desk")).status_code == 403
    assert api.patch(url, json={"priority": "high"}, headers=ops).json["errors"]["json"]["priority"]
    assert api.patch(url, json={"version": 3}, headers=ops).status_code == 400  # nothing to update
    assert api.get("/capa/00000000-0000-0000-0000-000000000000", headers=ops).status_code == 404
    # a scoped reader sees the records of its own floor only
    assert api.get(url, headers=staff("floor_supervisor", floors=["2F"])).status_code == 200
    assert api.get(url, headers=staff("floor_supervisor", floors=["3F"])).status_code == 404


def test_after_a_record_is_verified_only_new_recurrences_open_another(feed, reporting, api, staff):
    feed(event for story in same_problem([0, 1, 2]) for event in events(story))
    [record] = table(reporting, "capa", "opened_at")
    api.patch(
        f"/capa/{record['id']}",
        json={"cause": "a", "action": "b", "owner": "c", "verification": "d", "status": "verified"},
        headers=staff("operations_manager"),
    )

    feed(event for story in same_problem([3, 4]) for event in events(story))
    assert len(table(reporting, "capa", "opened_at")) == 1  # two new ones are not yet a recurrence
    feed(event for story in same_problem([5]) for event in events(story))
    assert [row["status"] for row in table(reporting, "capa", "opened_at")] == ["verified", "open"]


def test_each_event_of_a_problem_reads_of_its_open_record_only_what_does_not_grow_with_it(feed, reporting):
    """Every event of every case of a problem looks for its open record: reading the lists of
    complaints too made each event slower as the problem grew (17 ms a look at 20,000)."""
    feed(event for story in same_problem([0, 1, 2, 3, 4]) for event in events(story))

    with reporting.pool.connection() as conn:
        current = CapaStore(conn).current("demo", "quality|merchant:M-2F-003")
    [record] = table(reporting, "capa", "opened_at")
    assert set(current) == {"id", "first_received_at"}
    assert current["id"] == record["id"] and len(record["complaint_ids"]) == 5


STARBUCKS = {
    "code": "M-2F-003",
    "shop_name": "星巴克",
    "floor": "2F",
    "unit": None,
    "person_in_charge": "李经理",
    "phone": "13800000001",
}


def test_a_complaint_corrected_into_the_problem_makes_the_recurrence(feed, reporting):
    """Only intake's record (received or corrected) says a complaint's problem, so only those two
    events look for a recurrence: a correction moving the third complaint to the same shop opens the
    record."""
    two = same_problem([0, 1])
    third = Story(received_at=T0 + timedelta(days=2), category="quality", merchant="M-3F-001")
    feed(event for story in [*two, third] for event in events(story))
    assert table(reporting, "capa", "opened_at") == []

    feed([corrected(third, T0 + timedelta(days=2, hours=1), merchant=STARBUCKS, floor="2F")])
    [record] = table(reporting, "capa", "opened_at")
    assert set(record["complaint_ids"]) == {story.id for story in [*two, third]}

"""A running case that a merge makes major (a collective complaint of ten or more people) goes to the
store manager, as a complaint major from the start does: its handler's task is cancelled, the store
manager is told in words of its own (not "unresolved for a month"), the timeline says why, reporting
counts it major, and the events delivered again change nothing.

Intake, routing, notify and reporting run in-process on one database; a synchronous pump plays the
relays and the broker (tests/integration/reporting/test_retention.py's `mall`).
"""

from __future__ import annotations

from tests.integration.conftest import complaint
from tests.integration.notify.conftest import gateway, mail, notify, notify_settings  # noqa: F401 — fixtures
from tests.integration.reporting.conftest import reporting, table  # noqa: F401 — the fixture
from tests.integration.reporting.test_retention import mall  # noqa: F401 — the fixture
from tests.integration.routing.conftest import routing  # noqa: F401 — the fixture
from tests.support.mall import FLOOR, STORE


def test_a_merge_to_ten_people_moves_the_running_case_to_the_store_manager_once(mall, reporting):  # noqa: F811
    desk = mall.staff("service_desk")
    intake_api = mall.driver.intake_api
    bodies = [complaint(category="price", people_count=count) for count in (4, 3, 3)]
    posted = [intake_api.post("/complaints", json=body, headers=desk) for body in bodies]
    assert all(answer.status_code == 201 for answer in posted), [answer.json for answer in posted]
    collective, *others = (answer.json for answer in posted)
    mall.pump.run()
    case = mall.driver.case(collective["id"])
    assert case.open_tasks(FLOOR) == ["handle_floor"]

    merge = {"merged_ids": [item["id"] for item in others], "reason": "同一批顾客，同一事件"}
    merged = intake_api.post(f"/complaints/{collective['id']}/merge", json=merge, headers=desk)
    assert merged.status_code == 200 and merged.json["severity"] == "major", merged.json
    mall.pump.run()

    assert case.open_tasks(FLOOR) == [] and case.open_tasks(STORE) == ["handle_store"]
    assert sorted(case.created()) == ["handle_floor", "handle_store", "merchant_call"]
    kinds = [entry["kind"] for entry in case.timeline()]
    assert {"complaints_merged_in", "severity_raised", "complaint.became_major"} <= set(kinds)
    [merged_in] = [entry for entry in case.timeline() if entry["kind"] == "complaints_merged_in"]
    assert merged_in["detail"]["people_count"] == 10
    assert merged_in["detail"]["merged"] == "、".join(item["number"] for item in others)
    cancelled = [entry["element_id"] for entry in case.timeline() if entry["kind"] == "task_cancelled"]
    assert cancelled == ["handle_floor"]
    assert ("made_major", "store_manager") in case.notifications()
    assert ("major_unresolved", "store_manager") not in case.notifications()
    [became] = case.announced("complaint.became_major")
    assert became["people_count"] == 10 and became["major_reasons"] == ["collective"]
    told = _staff_notice(reporting, collective["number"], "made_major")
    assert "合并为10人的群体投诉" in told and "转店总" in told and "一个月" not in told
    assert _reported(reporting, collective["id"])["severity"] == "major"
    for item in others:
        assert mall.driver.case(item["id"]).status() == "completed"

    # Every event of the merge delivered again (a relay retrying after a lost confirm): nothing changes.
    merged_case = mall.driver.case(others[0]["id"])
    before = (case.timeline(), case.notifications(), merged_case.timeline())
    with reporting.pool.connection() as conn:
        for schema in ("intake", "routing"):
            conn.execute(f"UPDATE {schema}.outbox SET published_at = NULL")
    assert mall.pump.run() > 0
    assert (case.timeline(), case.notifications(), merged_case.timeline()) == before
    assert case.open_tasks(STORE) == ["handle_store"]
    assert sorted(case.created()) == ["handle_floor", "handle_store", "merchant_call"]

    # The store manager holds it as any major complaint: resolving it goes on to the reply.
    case.complete("handle_store", STORE, outcome="resolved", resolution="店总约见全体顾客，统一退款")
    mall.pump.run()
    assert "reply" in case.open_tasks()
    assert _reported(reporting, collective["id"])["severity"] == "major"


def _reported(reporting, complaint_id: str) -> dict:  # noqa: F811
    [row] = [row for row in table(reporting, "cases", "complaint_id") if row["complaint_id"] == complaint_id]
    return row


def _staff_notice(reporting, number: str, kind: str) -> str:  # noqa: F811
    """The text notify wrote for the store manager (subject and body of its inbox delivery)."""
    with reporting.pool.connection() as conn:
        rows = conn.execute(
            "SELECT d.* FROM notify.deliveries d JOIN notify.requests r ON r.id = d.request_id"
            " WHERE r.number = %s AND r.kind = %s",
            (number, kind),
        ).fetchall()
    assert rows, f"no {kind} delivery for {number}"
    return " ".join(str(value) for row in rows for value in row.values() if isinstance(value, str))

"""Intake shows a customer unmasked to whoever holds an open task of the case, from routing's task events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import TASK_COMPLETED, TASK_CREATED
from tests.conftest import bearer
from tests.integration.conftest import complaint


def _task_event(
    kind: str, complaint_id: str, task_id: str, at: datetime, queue="floor_supervisor"
) -> Envelope:
    payload = {
        "task_id": task_id,
        "queue": queue,
        "element_id": "handle_floor",
        "title": "Handle",
        "number": "TS-1",
        "state": "open",
        "floor": "3F",
        "department": None,
        "assignee": None,
    }
    return Envelope(
        type=kind,
        mall_id="demo",
        actor=Actor("routing"),
        payload=payload,
        occurred_at=at,
        complaint_id=complaint_id,
    )


def _apply(intake, envelope):
    with intake.pool.connection() as conn:  # as the consumer calls it, in its transaction
        intake.bus.handle_event(conn, envelope)


def test_the_floor_supervisor_holding_the_task_sees_the_customer_and_no_longer_once_it_is_done(
    client, desk, tokens, intake
):
    created = client.post("/complaints", json=complaint(), headers=desk).json
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")
    ops = bearer(tokens, "operations_manager", subject="ops")
    task_id, at = str(uuid.uuid4()), datetime(2026, 11, 22, 3, tzinfo=UTC)

    before = client.get(f"/complaints/{created['id']}", headers=floor3).json["customer"]
    _apply(intake, _task_event(TASK_CREATED, created["id"], task_id, at))
    holding = client.get(f"/complaints/{created['id']}", headers=floor3).json["customer"]
    listed = client.get("/complaints", headers=floor3).json["items"][0]["customer"]
    not_holding = client.get(f"/complaints/{created['id']}", headers=ops).json["customer"]
    _apply(intake, _task_event(TASK_COMPLETED, created["id"], task_id, at + timedelta(minutes=5)))
    _apply(intake, _task_event(TASK_CREATED, created["id"], task_id, at))  # redelivered late: ignored
    after = client.get(f"/complaints/{created['id']}", headers=floor3).json["customer"]

    assert before["masked"] and before["phone"] == "139****5678"
    assert not holding["masked"] and holding["phone"] == "13912345678" and holding["name"] == "王女士"
    assert not listed["masked"]
    assert not_holding["masked"]
    assert after["masked"]


DESCRIPTION = "王女士（电话 139-1234-5678，邮箱 wang@example.com）说 TS-20261122-0007 退款¥399.00 未到账"
MASKED_DESCRIPTION = "王**（电话 139****5678，邮箱 w***@example.com）说 TS-20261122-0007 退款¥399.00 未到账"


def test_the_description_is_masked_for_whoever_sees_the_customer_masked_and_as_written_for_the_rest(
    client, desk, tokens, intake
):
    created = client.post("/complaints", json=complaint(description=DESCRIPTION), headers=desk).json
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")
    _apply(
        intake,
        _task_event(TASK_CREATED, created["id"], str(uuid.uuid4()), datetime(2026, 11, 22, 3, tzinfo=UTC)),
    )
    path = f"/complaints/{created['id']}"

    shown = {
        who: client.get(path, headers=headers).json
        for who, headers in {
            "desk": desk,
            "floor3": floor3,
            "ops": bearer(tokens, "operations_manager", subject="ops"),
            "store": bearer(tokens, "store_manager", subject="store"),
        }.items()
    }
    by_number = client.get(
        f"/complaints/by-number/{created['number']}", headers=bearer(tokens, "store_manager")
    )
    listed = client.get("/complaints", headers=bearer(tokens, "deputy_store_manager")).json["items"][0]

    assert {who: (item["customer"]["masked"], item["description"]) for who, item in shown.items()} == {
        "desk": (False, DESCRIPTION),
        "floor3": (False, DESCRIPTION),
        "ops": (True, MASKED_DESCRIPTION),
        "store": (True, MASKED_DESCRIPTION),
    }
    assert by_number.json["description"] == listed["description"] == MASKED_DESCRIPTION
    with intake.pool.connection() as conn:  # stored as typed: masking is on the way out
        stored = conn.execute(
            "SELECT description FROM intake.complaints WHERE id = %s", (created["id"],)
        ).fetchone()
    assert stored["description"] == DESCRIPTION


def test_a_corrections_history_shows_the_customers_old_and_new_details_and_texts_masked_to_managers(
    client, desk, tokens
):
    created = client.post("/complaints", json=complaint(), headers=desk).json
    correction = {
        "reason": "王女士来电更正：新号码 13800001111",
        "description": DESCRIPTION,
        "customer": {"phone": "13800001111", "name": "王丽"},
    }
    assert client.patch(f"/complaints/{created['id']}", json=correction, headers=desk).status_code == 200
    path = f"/complaints/{created['id']}/history"

    [as_written] = client.get(path, headers=desk).json
    [masked] = client.get(path, headers=bearer(tokens, "operations_manager", subject="ops")).json

    assert as_written["reason"] == correction["reason"]
    assert as_written["changes"]["customer.phone"] == {"old": "13912345678", "new": "13800001111"}
    assert masked["reason"] == "王**来电更正：新号码 138****1111"
    assert masked["changes"]["customer.phone"] == {"old": "139****5678", "new": "138****1111"}
    assert masked["changes"]["customer.name"] == {"old": "王**", "new": "王*"}
    assert masked["changes"]["description"] == {"old": "店员态度恶劣，拒绝换货", "new": MASKED_DESCRIPTION}


def test_a_consumer_batch_writes_its_task_holders_together_the_newest_event_of_each_task_counting(
    client, desk, tokens, intake
):
    created = client.post("/complaints", json=complaint(), headers=desk).json
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")
    done, still_open = str(uuid.uuid4()), str(uuid.uuid4())
    at = datetime(2026, 11, 22, 3, tzinfo=UTC)
    batch = [
        _task_event(TASK_CREATED, created["id"], done, at),
        _task_event(TASK_COMPLETED, created["id"], done, at + timedelta(minutes=5)),
        _task_event(TASK_CREATED, created["id"], still_open, at + timedelta(minutes=5)),
        _task_event(TASK_CREATED, created["id"], done, at),  # redelivered in the same batch: older
    ]
    with intake.pool.connection() as conn, conn.transaction(), intake.bus.joined(conn):
        for envelope in batch:  # as the consumer applies a batch: one unit of work for all
            intake.bus.handle_event(conn, envelope)
        with intake.pool.connection() as other:  # nothing is written until the batch's handlers ran
            assert (
                other.execute(
                    "SELECT count(*) AS n FROM intake.case_holders WHERE complaint_id = %s", (created["id"],)
                ).fetchone()["n"]
                == 0
            )

    with intake.pool.connection() as conn:
        rows = conn.execute(
            "SELECT task_id::text AS task, open FROM intake.case_holders WHERE complaint_id = %s",
            (created["id"],),
        ).fetchall()
    assert {row["task"]: row["open"] for row in rows} == {done: False, still_open: True}
    assert not client.get(f"/complaints/{created['id']}", headers=floor3).json["customer"]["masked"]

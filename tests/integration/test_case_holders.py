"""Intake shows a customer unmasked to whoever holds an open task of the case, from routing's task events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.common.bus.envelope import TASK_COMPLETED, TASK_CREATED, Actor, Envelope
from services.intake.adapters.holders import record_task_event
from tests.conftest import bearer
from tests.integration.conftest import complaint


def _task_event(
    kind: str, complaint_id: str, task_id: str, at: datetime, queue="floor_supervisor"
) -> Envelope:
    payload = {"task_id": task_id, "queue": queue, "element_id": "handle_floor", "title": "Handle",
               "number": "TS-1", "state": "open", "floor": "3F", "department": None, "assignee": None}  # fmt: skip
    return Envelope(type=kind, mall_id="demo", actor=Actor("routing"), payload=payload, occurred_at=at,
                    complaint_id=complaint_id)  # fmt: skip


def _apply(intake, envelope):
    with intake.pool.connection() as conn:
        record_task_event(conn, envelope)


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

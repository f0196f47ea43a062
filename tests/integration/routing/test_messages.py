"""Messages from outside, delivered to the waiting case or kept until it waits."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.routing.conftest import deploy, open_tasks, task_id


def test_a_message_arriving_before_the_case_waits_is_kept_and_delivered_later(routing, start, api, staff):
    deploy(routing, "message_wait.bpmn", dmn=())
    case = start()
    desk, ops = staff("service_desk"), staff("operations_manager")
    answer = {"name": "merchant_answered", "data": {"refund": True}, "idempotency_key": "merchant-call-1"}

    early = api.post(f"/cases/{case}/messages", json=answer, headers=desk)
    again = api.post(f"/cases/{case}/messages", json=answer, headers=desk)
    api.post(
        f"/tasks/{task_id(routing, case, 'call_merchant')}/complete",
        json={"data": {"called": True}},
        headers=desk,
    )

    assert (early.json["status"], again.json["status"]) == ("buffered", "duplicate")
    assert open_tasks(routing, case) == ["review_answer"]
    review = api.get(f"/tasks/{task_id(routing, case, 'review_answer')}", headers=ops)
    assert review.status_code == 200
    kinds = [entry["kind"] for entry in api.get(f"/cases/{case}/timeline", headers=ops).json]
    assert "message_delivered" in kinds


def test_a_message_for_a_waiting_case_is_delivered_at_once(routing, start, api, staff):
    deploy(routing, "message_wait.bpmn", dmn=())
    case = start()
    desk = staff("service_desk")
    api.post(
        f"/tasks/{task_id(routing, case, 'call_merchant')}/complete",
        json={"data": {"called": True}},
        headers=desk,
    )

    answer = {"name": "merchant_answered", "data": {"refund": False}, "idempotency_key": "merchant-call-2"}
    response = api.post(f"/cases/{case}/messages", json=answer, headers=desk)

    assert response.status_code == 202 and response.json["status"] == "delivered"
    assert open_tasks(routing, case) == ["review_answer"]


def test_a_kept_message_expires_after_its_time_to_live(routing, start, api, staff, clock):
    deploy(routing, "message_wait.bpmn", dmn=())
    case = start()
    desk = staff("service_desk")
    answer = {"name": "merchant_answered", "data": {}, "idempotency_key": "k-3", "ttl_seconds": 3600}
    api.post(f"/cases/{case}/messages", json=answer, headers=desk)

    clock.advance(timedelta(hours=2))
    api.post(
        f"/tasks/{task_id(routing, case, 'call_merchant')}/complete",
        json={"data": {"called": True}},
        headers=desk,
    )

    assert open_tasks(routing, case) == []  # still waiting at the catch event
    current = api.get(f"/cases/{case}", headers=desk).json["current_elements"]
    assert current == ["merchant_answer"]

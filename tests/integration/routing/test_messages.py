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


def test_the_timeline_names_who_sent_a_message(routing, start, api, staff):
    deploy(routing, "message_wait.bpmn", dmn=())
    case = start()
    desk, ops = staff("service_desk"), staff("operations_manager")
    answer = {"name": "merchant_answered", "data": {}, "idempotency_key": "merchant-call-4"}

    api.post(f"/cases/{case}/messages", json=answer, headers=desk)

    [received] = [
        e for e in api.get(f"/cases/{case}/timeline", headers=ops).json if e["kind"] == "message_received"
    ]
    assert received["role"] == "service_desk" and received["detail"] == {"name": "merchant_answered"}
    assert received["actor"] != "routing"


def test_a_message_the_diagram_waits_for_nowhere_is_refused_naming_the_field(routing, start, api, staff):
    deploy(routing, "message_wait.bpmn", dmn=())
    case = start()
    desk = staff("service_desk")
    stray = {"name": "merchant_answerd", "data": {}, "idempotency_key": "typo-1"}

    english = api.post(f"/cases/{case}/messages", json=stray, headers=desk)
    chinese = api.post(f"/cases/{case}/messages", json=stray, headers={**desk, "Accept-Language": "zh-CN"})

    assert english.status_code == chinese.status_code == 400
    assert english.json["errors"]["json"]["name"] == [
        "a message the case's diagram waits for: merchant_answered"
    ]
    assert "merchant_answered" in chinese.json["errors"]["json"]["name"][0]
    assert (
        "diagram" not in chinese.json["message"] and "waits" not in chinese.json["errors"]["json"]["name"][0]
    )
    assert _kept(routing) == 0  # nothing kept


def test_routing_s_own_message_cannot_be_sent_from_outside(routing, start, api, staff):
    deploy(routing, "message_wait.bpmn", dmn=())
    case = start()
    forged = {"name": "made_major", "data": {"reason": "forged"}, "idempotency_key": "forged-1"}

    answers = [
        api.post(f"/cases/{case}/messages", json=forged, headers={**staff(role), "Accept-Language": "zh-CN"})
        for role in ("service_desk", "operations_manager", "store_manager")
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert "made_major" not in answers[0].json["message"] and "routing" not in answers[0].json["message"]
    assert _kept(routing) == 0


def _kept(routing) -> int:
    with routing.uow() as uow:
        return uow.conn.execute("SELECT count(*) AS n FROM routing.pending_messages").fetchone()["n"]

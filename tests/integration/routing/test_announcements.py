"""Steps the designer marked in the diagram are announced to the other services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.routing.domain.commands import DeployProcess
from tests.integration.routing.conftest import diagram, task_id


def properties(**values: str) -> str:
    rows = "".join(f'<camunda:property name="{name}" value="{value}" />' for name, value in values.items())
    return f"<camunda:properties>{rows}</camunda:properties>"


def announcing_diagram(event: str = "complaint.replied") -> str:
    """The v1 diagram with the reply and the escalation timer marked for announcement."""
    text = diagram("complaint_v1.bpmn")
    reply = '<bpmn:userTask id="reply" name="Reply to customer" camunda:candidateGroups="service_desk">\n      <bpmn:extensionElements>'
    assert reply in text
    text = text.replace(reply, reply + properties(event=event, notify="reply", notify_to="customer"))
    timer = 'attachedToRef="handle_floor">'
    text = text.replace(
        timer,
        timer
        + "<bpmn:extensionElements>"
        + properties(event="complaint.escalated", notify="overdue", notify_to="operations_manager")
        + "</bpmn:extensionElements>",
    )
    return text


def deploy_text(routing, bpmn: str):
    command = DeployProcess(
        bpmn, {"triage_v1.dmn": diagram("triage_v1.dmn")}, "designer", None, "announcing.bpmn"
    )
    return routing.bus.handle(command)


def announced(routing) -> list[tuple[str, dict]]:
    with routing.uow() as uow:
        rows = uow.conn.execute(
            "SELECT routing_key, envelope FROM routing.outbox WHERE routing_key NOT LIKE 'task.%%' ORDER BY created_at"
        ).fetchall()
    return [(row["routing_key"], row["envelope"]["payload"]) for row in rows]


def test_a_marked_reply_is_announced_and_asks_for_the_customers_notification(routing, start, api, staff):
    deploy_text(routing, announcing_diagram())
    case = start()
    api.post(
        f"/tasks/{task_id(routing, case, 'handle_floor')}/complete",
        json={"data": {"outcome": "resolved"}},
        headers=staff("floor_supervisor", floors=["3F"]),
    )
    api.post(
        f"/tasks/{task_id(routing, case, 'reply')}/complete",
        json={"data": {"reply_text": "已为您换货"}},
        headers=staff("service_desk"),
    )

    [(replied, step), (requested, notification)] = announced(routing)
    assert (replied, step["element_id"], step["data"]["reply_text"]) == (
        "complaint.replied",
        "reply",
        "已为您换货",
    )
    assert "complaint" not in step["data"] and "policy" not in step["data"]
    assert (requested, notification["kind"], notification["to"]) == (
        "notification.requested",
        "reply",
        "customer",
    )
    visited = api.get(f"/cases/{case}", headers=staff("service_desk")).json["visited"]
    assert {"start", "triage", "handle_floor", "reply"} <= set(visited)


def test_an_escalation_by_timer_is_announced_once(routing, start, clock):
    deploy_text(routing, announcing_diagram())
    start()
    clock.advance(timedelta(hours=25))

    routing.scheduler().tick()
    routing.scheduler().tick()

    assert [(key, payload.get("to")) for key, payload in announced(routing)] == [
        ("complaint.escalated", None),
        ("notification.requested", "operations_manager"),
    ]


def test_an_unknown_event_name_is_refused_on_deploy(routing):
    from services.common.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"complaint\.exploded"):
        deploy_text(routing, announcing_diagram(event="complaint.exploded"))

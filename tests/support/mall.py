"""The mall as its staff drive it, in one process: intake's POST, intake's outbox relay, the in-memory
broker, routing's consumer, then routing's task API and a moved clock — nothing else.

`Mall.complain(...)` posts a complaint to intake and waits until routing has started its case;
`Case` completes tasks through the task API, moves the clock for timers, and reads what the case
did (timeline, status, the events and notifications it published) through the case API and the
outbox rows carrying its id.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

from kombu import Connection

from services.common.clock import MovableClock
from services.common.identity.tokens import TokenIssuer
from services.common.settings import Policy
from tests.support.waiting import eventually

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"

DESK = ("service_desk", {})
FLOOR = ("floor_supervisor", {"floors": ["3F"]})
DEPARTMENT = ("department_manager", {"departments": ["cleaning"]})
OPS = ("operations_manager", {})
DEPUTY = ("deputy_store_manager", {})
STORE = ("store_manager", {})
DESIGNER = ("process_designer", {})

# A phone complaint about a 3F shop's service, as the desk records it (the shop itself left out:
# `merchant_code="M-3F-001"` names one).
COMPLAINT = {
    "channel": "phone",
    "category": "merchant_service",
    "customer": {"name": "王女士", "phone": "13912345678"},
    "floor": "3F",
    "description": "店员态度恶劣，拒绝换货",
    "customer_request": ["exchange"],
    "amount": "399.00",
}


def mall_diagram() -> dict[str, Any]:
    """bpmn/ as a deployment body for POST /processes."""
    return {
        "bpmn": (BPMN_DIR / "complaint.bpmn").read_text(encoding="utf-8"),
        "bpmn_name": "complaint.bpmn",
        "dmn": {"triage.dmn": (BPMN_DIR / "triage.dmn").read_text(encoding="utf-8")},
    }


def purge(connection: Connection, consumer) -> None:
    """The in-memory broker is one per process: drop what another test may have left queued."""
    with connection.clone() as conn:
        channel = conn.default_channel
        for queue in consumer.queues.all():
            queue(channel).declare()
            queue(channel).purge()


class Mall:
    def __init__(self, intake_api, routing_api, routing, clock: MovableClock, tokens: TokenIssuer, bearer):
        self.intake_api, self.api, self.routing, self.clock = intake_api, routing_api, routing, clock
        self.tokens, self.bearer = tokens, bearer
        self.posted = 0

    def headers(self, who) -> dict:
        role, scope = who
        return self.bearer(self.tokens, role, subject=f"{role}-1", **scope)

    def deploy(self, body: dict[str, Any] | None = None):
        answer = self.api.post("/processes", json=body or mall_diagram(), headers=self.headers(DESIGNER))
        assert answer.status_code in (200, 201), answer.json
        return answer.json

    def case(self, case_id: str) -> Case:
        """A driver for a case started some other way (its number read from the case API)."""
        number = self.api.get(f"/cases/{case_id}", headers=self.headers(OPS)).json["number"]
        return Case(self, case_id, number)

    def complain(self, **changes) -> Case:
        """POST a complaint to intake (COMPLAINT with `changes`; None removes a field) and wait for
        routing to start its case from the relayed complaint.received event."""
        body = copy.deepcopy(COMPLAINT)
        for key, value in changes.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        self.posted += 1
        headers = {**self.headers(DESK), "Idempotency-Key": f"scenario-{self.posted}"}
        answer = self.intake_api.post("/complaints", json=body, headers=headers)
        assert answer.status_code == 201, answer.json
        case = Case(self, answer.json["id"], answer.json["number"])
        eventually(
            lambda: self.api.get(f"/cases/{case.id}", headers=self.headers(OPS)).status_code == 200,
            timeout=30,
        )
        return case


class Case:
    """One case, driven the way staff drive it and read the way its timeline shows it."""

    def __init__(self, mall: Mall, case_id: str, number: str):
        self.mall, self.id, self.number = mall, case_id, number

    def tasks(self, who=DESK) -> list[dict]:
        items = self.mall.api.get("/tasks?limit=200", headers=self.mall.headers(who)).json["items"]
        return [item for item in items if item["case_id"] == self.id]

    def open_tasks(self, who=DESK) -> list[str]:
        return sorted(item["element_id"] for item in self.tasks(who))

    def task(self, element: str, who) -> dict:
        [task] = [item for item in self.tasks(who) if item["element_id"] == element]
        return task

    def try_complete(self, element: str, who, **data):
        task = self.task(element, who)
        return self.mall.api.post(
            f"/tasks/{task['id']}/complete", json={"data": data}, headers=self.mall.headers(who)
        )

    def complete(self, element: str, who, **data) -> dict:
        answer = self.try_complete(element, who, **data)
        assert answer.status_code == 200, answer.json
        return answer.json

    def wait(self, **delta) -> None:
        """Let time pass: move the clock, then let the timer scheduler fire what fell due."""
        self.mall.clock.advance(timedelta(**delta))
        scheduler = self.mall.routing.scheduler()
        while scheduler.tick():
            pass

    def timers(self, who=OPS) -> list[dict]:
        """The case's pending timers, as the timer API lists them."""
        answer = self.mall.api.get(f"/cases/{self.id}/timers", headers=self.mall.headers(who))
        assert answer.status_code == 200, answer.json
        return answer.json

    def timer(self, element: str, who=OPS) -> dict:
        [timer] = [timer for timer in self.timers(who) if timer["element_id"] == element]
        return timer

    def try_fire(self, element: str, who=OPS, reason: str = "演示：提前触发"):
        timer = self.timer(element)
        return self.mall.api.post(
            f"/cases/{self.id}/timers/{timer['id']}/fire",
            json={"reason": reason},
            headers=self.mall.headers(who),
        )

    def fire(self, element: str, who=OPS, reason: str = "演示：提前触发") -> dict:
        """Fire the case's timer on `element` now through the timer API (no clock moved)."""
        answer = self.try_fire(element, who, reason)
        assert answer.status_code == 200, answer.json
        return answer.json

    def message(self, name: str, data: dict, key: str, who=DESK):
        body = {"name": name, "data": data, "idempotency_key": key}
        return self.mall.api.post(f"/cases/{self.id}/messages", json=body, headers=self.mall.headers(who))

    def view(self) -> dict:
        return self.mall.api.get(f"/cases/{self.id}", headers=self.mall.headers(OPS)).json

    def status(self) -> str:
        return self.view()["status"]

    def timeline(self) -> list[dict]:
        return self.mall.api.get(f"/cases/{self.id}/timeline", headers=self.mall.headers(OPS)).json

    def created(self) -> list[str]:
        return [entry["element_id"] for entry in self.timeline() if entry["kind"] == "task_created"]

    def events(self) -> list[str]:
        return [entry["kind"] for entry in self.timeline() if entry["kind"].startswith("complaint.")]

    def published(self, routing_key: str) -> list[dict]:
        """The payloads the case published with this routing key, oldest first."""
        with self.mall.routing.uow() as uow:
            rows = uow.conn.execute(
                "SELECT envelope FROM routing.outbox WHERE routing_key = %s AND envelope->>'complaint_id' = %s"
                " ORDER BY created_at",
                (routing_key, self.id),
            ).fetchall()
        return [row["envelope"]["payload"] for row in rows]

    def announced(self, event: str) -> list[dict]:
        """The data of each `event` the case announced (e.g. complaint.closed)."""
        return [payload["data"] for payload in self.published(event)]

    def notifications(self) -> list[tuple[str, str]]:
        return [(payload["kind"], payload["to"]) for payload in self.published("notification.requested")]


# --- what many paths share

CLOSE = {
    "outcome": "已退款",
    "cost": "12.50",
    "responsible_party": "merchant",
    "root_cause": "service_attitude",
}


def seconds(policy: Policy, name: str) -> int:
    return policy.as_workflow_data()[f"{name}_seconds"]


def reply_and_call_back(case: Case, policy: Policy, **callback) -> None:
    case.complete("reply", DESK, reply_text="已处理")
    case.wait(seconds=seconds(policy, "callback_from"))
    case.complete("callback", DESK, **callback)


def settle_price_complaint_on_the_floor(case: Case, policy: Policy) -> None:
    """The floor resolves, operations signs off, the merchant is called, reply, callback, close;
    then the tasks were exactly those, in that order, and the case is complete."""
    case.complete("handle_floor", FLOOR, outcome="resolved", resolution="商户退还差价")
    case.complete("signoff_ops", OPS, signed_off=True)
    case.complete("merchant_call", DESK, called=True, merchant_signed_by="何勇", signed_at="2026-11-22")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    created = case.created()
    assert sorted(created[:2]) == ["handle_floor", "merchant_call"]
    assert created[2:] == ["signoff_ops", "reply", "callback", "close"]
    assert case.status() == "completed"

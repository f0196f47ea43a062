"""bpmn/complaint.bpmn, the diagram the mall runs: it deploys, it is drawn, and each path works."""

from __future__ import annotations

import itertools
from copy import copy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from services.common.clock import MovableClock
from services.routing.domain.commands import DeployProcess
from services.routing.engine.parser import parse_diagram
from services.routing.engine.scripts import restricted_environment
from services.routing.engine.timers import ClockScriptEngine
from services.routing.service_layer import handlers
from tests.integration.routing.conftest import POLICY

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
}
MERCHANT = {"code": "M-3F-001", "shop_name": "优品服饰", "floor": "3F", "unit": "301",
            "person_in_charge": "李经理", "phone": "13800000001"}  # fmt: skip
DESK = ("service_desk", {})
FLOOR = ("floor_supervisor", {"floors": ["3F"]})
DEPARTMENT = ("department_manager", {"departments": ["cleaning"]})
OPS = ("operations_manager", {})
DEPUTY = ("deputy_store_manager", {})
STORE = ("store_manager", {})
CLOSE = {"outcome": "已退款", "cost": 0, "responsible_party": "merchant", "root_cause": "服务态度"}


def deploy_mall_diagram(routing):
    bpmn = (BPMN_DIR / "complaint.bpmn").read_text(encoding="utf-8")
    dmn = {"triage.dmn": (BPMN_DIR / "triage.dmn").read_text(encoding="utf-8")}
    command = DeployProcess(bpmn, dmn, "designer", None, "complaint.bpmn")
    version, _ = routing.handle(handlers.deploy_process, command)
    return version


@pytest.fixture
def case(routing, start, api, staff, clock):
    """Deploy bpmn/ and give a driver for one case through the public task API."""
    deploy_mall_diagram(routing)
    return lambda **complaint: Case(routing, api, staff, clock, start(**complaint))


class Case:
    """One case driven the way staff drive it: task lists, completions, the clock, the timeline."""

    def __init__(self, routing, api, staff, clock, case_id):
        self.routing, self.api, self.staff, self.clock, self.id = routing, api, staff, clock, case_id

    def headers(self, who):
        role, scope = who
        return self.staff(role, **scope)

    def open_tasks(self, who=DESK) -> list[str]:
        items = self.api.get("/tasks?limit=100", headers=self.headers(who)).json["items"]
        return sorted(item["element_id"] for item in items if item["case_id"] == self.id)

    def complete(self, element: str, who, **data):
        items = self.api.get("/tasks?limit=100", headers=self.headers(who)).json["items"]
        [task] = [item for item in items if item["case_id"] == self.id and item["element_id"] == element]
        answer = self.api.post(
            f"/tasks/{task['id']}/complete", json={"data": data}, headers=self.headers(who)
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    def wait(self, **delta):
        self.clock.advance(timedelta(**delta))
        self.routing.scheduler().tick()

    def timeline(self) -> list[dict]:
        return self.api.get(f"/cases/{self.id}/timeline", headers=self.headers(OPS)).json

    def created(self) -> list[str]:
        return [entry["element_id"] for entry in self.timeline() if entry["kind"] == "task_created"]

    def events(self) -> list[str]:
        return [entry["kind"] for entry in self.timeline() if entry["kind"].startswith("complaint.")]

    def status(self) -> str:
        return self.api.get(f"/cases/{self.id}", headers=self.headers(OPS)).json["status"]

    def reply_and_call_back(self, **callback):
        self.complete("reply", DESK, reply_text="已处理")
        self.wait(seconds=POLICY["callback_from_seconds"])
        self.complete("callback", DESK, **callback)


def announced(routing, event: str) -> list[dict]:
    """The data of each `event` the case announced (e.g. complaint.closed)."""
    with routing.session() as session:
        rows = session.conn.execute(
            "SELECT envelope FROM routing.outbox WHERE routing_key = %s ORDER BY created_at", (event,)
        ).fetchall()
    return [row["envelope"]["payload"]["data"] for row in rows]


def notifications(routing) -> list[tuple[str, str]]:
    with routing.session() as session:
        rows = session.conn.execute(
            "SELECT envelope FROM routing.outbox WHERE routing_key = 'notification.requested' ORDER BY created_at"
        ).fetchall()
    return [(row["envelope"]["payload"]["kind"], row["envelope"]["payload"]["to"]) for row in rows]


# --- the diagram itself


def test_the_mall_diagram_deploys_through_the_services_validation(routing):
    version = deploy_mall_diagram(routing)
    assert version.process_key == "complaint"


def test_the_diagram_and_the_decision_are_valid_against_the_bpmn_and_dmn_schemas():
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_DIR / "complaint.bpmn"))  # raises naming the line when invalid
    parser.add_dmn_file(str(BPMN_DIR / "triage.dmn"))
    assert parser.get_process_ids() == ["complaint"]


def test_every_element_and_flow_is_drawn():
    root = etree.parse(str(BPMN_DIR / "complaint.bpmn")).getroot()
    process = root.find("bpmn:process", NS)
    nodes = {
        element.get("id")
        for element in process
        if etree.QName(element).localname
        not in ("laneSet", "sequenceFlow", "documentation", "extensionElements")
    }
    flows = {element.get("id") for element in process.findall("bpmn:sequenceFlow", NS)}
    lanes = {lane.get("id") for lane in process.iterfind(".//bpmn:lane", NS)}
    shapes = {shape.get("bpmnElement") for shape in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {edge.get("bpmnElement") for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    assert len(lanes) == 6 and lanes <= shapes
    assert nodes - shapes == set()
    assert flows - edges == set()
    assert {"handle_floor", "merchant_call_overdue"} <= nodes
    for element in process:
        if element.get("id") in nodes:
            assert element.find("bpmn:documentation", NS) is not None, element.get("id")


CATEGORIES = ("quality", "price", "merchant_service", "staff_service", "environment", "facility", "fee",
              "emergency")  # fmt: skip
QUEUE_NAMES = {"service_desk", "floor_supervisor", "department_manager", "operations_manager",
               "deputy_store_manager", "store_manager"}  # fmt: skip


def test_exactly_one_triage_rule_matches_every_complaint(clock):
    """The engine takes the first matching rule without checking overlaps: the rules must not overlap."""
    diagram = parse_diagram((BPMN_DIR / "complaint.bpmn").read_bytes(),
                            {"triage.dmn": (BPMN_DIR / "triage.dmn").read_bytes()}, QUEUE_NAMES)  # fmt: skip
    table = copy(diagram.spec.task_specs["triage"].dmnEngine.decision_table)
    table.hit_policy = "COLLECT"
    engine = ClockScriptEngine(MovableClock(clock.now()), restricted_environment())

    def queues(**complaint) -> list[str]:
        task = SimpleNamespace(data={"complaint": complaint}, workflow=SimpleNamespace(script_engine=engine))
        return [rule.output_as_dict(task)["queue"] for rule in DMNEngine(table).decide(task)]

    for severity, category, about, directly, merchant, department in itertools.product(
        ("normal", "major"), CATEGORIES, (False, True), (False, True), (None, MERCHANT), (None, "cleaning")
    ):
        found = queues(severity=severity, category=category, about_department_manager=about,
                       handle_directly=directly, merchant=merchant, department=department)  # fmt: skip
        assert len(found) == 1, (severity, category, about, directly, merchant, department, found)
    assert queues(severity="major", category="quality", handle_directly=True) == ["store_manager"]
    assert queues(severity="normal", category="quality", merchant=MERCHANT) == ["operations_manager"]
    assert queues(severity="normal", category="staff_service", about_department_manager=True,
                  department="cleaning") == ["deputy_store_manager"]  # fmt: skip
    assert queues(severity="normal", category="price", handle_directly=True) == ["service_desk"]
    assert queues(severity="normal", category="price") == ["floor_supervisor"]
    assert queues(severity="normal", category="emergency", merchant=MERCHANT) == ["floor_supervisor"]
    assert queues(severity="normal", category="fee", department="parking") == ["department_manager"]
    assert queues(severity="normal", category="fee") == ["operations_manager"]


# --- one scenario per path


def test_the_desk_settles_it_directly_and_the_satisfied_customer_closes_it(case, routing):
    complaint = case(category="environment", handle_directly=True)
    complaint.complete("handle_desk", DESK, outcome="resolved", resolution="已道歉并赠送停车券")
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    assert complaint.created() == ["handle_desk", "reply", "callback", "close"]
    assert complaint.events() == ["complaint.acknowledged", "complaint.triaged", "complaint.resolved",
                                  "complaint.replied", "complaint.closed"]  # fmt: skip
    assert complaint.status() == "completed"
    [closed] = announced(routing, "complaint.closed")
    assert (closed["closed_as"], closed["last_resolver"], closed["responsible_party"]) == (
        "resolved",
        "service_desk",
        "merchant",
    )


def settle_price_complaint_on_the_floor(complaint: Case) -> None:
    """The floor resolves, operations signs off, the merchant is called, reply, callback, close;
    then the tasks were exactly those, in that order, and the case is complete."""
    complaint.complete("handle_floor", FLOOR, outcome="resolved", resolution="商户退还差价")
    complaint.complete("signoff_ops", OPS, signed_off=True)
    complaint.complete(
        "merchant_call", DESK, called=True, merchant_signed_by="李经理", signed_at="2026-11-22"
    )
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    created = complaint.created()
    assert sorted(created[:2]) == ["handle_floor", "merchant_call"]
    assert created[2:] == ["signoff_ops", "reply", "callback", "close"]
    assert complaint.status() == "completed"


def test_a_merchant_price_complaint_is_resolved_on_the_floor_signed_off_tracked_and_closed(case, routing):
    complaint = case(category="price", merchant=MERCHANT)
    assert complaint.open_tasks(FLOOR) == ["handle_floor"] and complaint.open_tasks(DESK) == ["merchant_call"]

    settle_price_complaint_on_the_floor(complaint)
    assert ("overdue", "operations_manager") not in notifications(routing)


def test_a_merchant_not_called_in_time_tells_the_operations_manager_and_the_call_stays_open(case, routing):
    complaint = case(category="merchant_service", merchant=MERCHANT)
    complaint.complete("handle_floor", FLOOR, outcome="resolved")
    complaint.wait(seconds=POLICY["merchant_call_within_seconds"] + 1)

    assert ("overdue", "operations_manager") in notifications(routing)
    assert complaint.open_tasks(DESK) == ["merchant_call"]
    assert complaint.open_tasks(OPS) == ["signoff_ops"]
    complaint.wait(seconds=POLICY["merchant_call_within_seconds"] + 1)
    assert notifications(routing).count(("overdue", "operations_manager")) == 1  # told once


def test_a_quality_complaint_goes_to_the_operations_manager_at_once(case):
    complaint = case(category="quality", merchant=MERCHANT)
    complaint.complete("handle_ops", OPS, outcome="resolved", resolution="下架并退款")
    complaint.complete("merchant_call", DESK, called=True)
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    created = complaint.created()
    assert sorted(created[:2]) == ["handle_ops", "merchant_call"]
    assert created[2:] == ["reply", "callback", "close"]
    assert complaint.status() == "completed"


def test_a_silent_floor_supervisor_is_escalated_to_operations_then_to_the_store_manager(case, routing):
    complaint = case()
    complaint.wait(seconds=POLICY["handler_acts_within_seconds"] + 1)
    assert complaint.open_tasks(OPS) == ["handle_ops"] and complaint.open_tasks(FLOOR) == []
    complaint.wait(seconds=POLICY["handler_acts_within_seconds"] + 1)
    complaint.complete("handle_store", STORE, resolution="店总亲自致歉")
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    assert complaint.created() == ["handle_floor", "handle_ops", "handle_store", "reply", "callback", "close"]
    assert complaint.events().count("complaint.escalated") == 2
    assert [to for kind, to in notifications(routing) if kind == "escalated"] == [
        "operations_manager",
        "store_manager",
    ]
    assert complaint.status() == "completed"


def test_a_complaint_about_a_department_manager_goes_to_the_deputy_store_manager(case):
    complaint = case(category="staff_service", department="cleaning", about_department_manager=True)
    complaint.complete("handle_deputy", DEPUTY, outcome="resolved", resolution="已约谈部门经理")
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    assert complaint.created() == ["handle_deputy", "reply", "callback", "close"]
    assert complaint.status() == "completed"


def test_a_department_matter_goes_to_its_manager_and_escalates_to_the_deputy(case):
    complaint = case(category="environment", department="cleaning")
    complaint.complete("handle_department", DEPARTMENT, outcome="escalate")
    complaint.complete("handle_deputy", DEPUTY, outcome="resolved")
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    assert complaint.created() == ["handle_department", "handle_deputy", "reply", "callback", "close"]
    assert complaint.status() == "completed"


def test_a_major_complaint_goes_to_the_store_manager(case):
    complaint = case(
        category="merchant_service", severity="major", major_reasons=["injury"], merchant=MERCHANT
    )
    assert complaint.open_tasks(STORE) == ["handle_store"]
    complaint.complete("handle_store", STORE, resolution="赔偿医疗费")
    complaint.complete("merchant_call", DESK, called=True)
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    created = complaint.created()
    assert sorted(created[:2]) == ["handle_store", "merchant_call"]
    assert created[2:] == ["reply", "callback", "close"]
    assert complaint.status() == "completed"


def test_a_dissatisfied_customer_reopens_the_case_one_level_above_the_last_resolver(case):
    complaint = case()
    complaint.complete("handle_floor", FLOOR, outcome="resolved")
    complaint.complete("signoff_ops", OPS, signed_off=True)
    complaint.reply_and_call_back(reached=True, satisfied=False)
    assert complaint.open_tasks(OPS) == ["handle_ops"]  # one level above the floor supervisor
    complaint.complete("handle_ops", OPS, outcome="resolved")
    complaint.reply_and_call_back(reached=True, satisfied=False)
    assert complaint.open_tasks(STORE) == ["handle_store"]  # one level above operations
    complaint.complete("handle_store", STORE, resolution="全额退款")
    complaint.reply_and_call_back(reached=True, satisfied=True)
    complaint.complete("close", DESK, **CLOSE)

    assert complaint.created() == ["handle_floor", "signoff_ops", "reply", "callback", "handle_ops", "reply",
                                   "callback", "handle_store", "reply", "callback", "close"]  # fmt: skip
    assert complaint.events().count("complaint.reopened") == 2
    assert complaint.status() == "completed"


def test_a_customer_unreachable_after_the_allowed_attempts_is_closed_as_no_answer(case, routing):
    complaint = case(category="environment", handle_directly=True)
    complaint.complete("handle_desk", DESK, outcome="resolved")
    complaint.complete("reply", DESK, reply_text="已处理")
    complaint.wait(seconds=POLICY["callback_from_seconds"])
    for attempt in range(POLICY["callback_attempts"]):
        if attempt:
            complaint.wait(hours=8)  # (callback_until - callback_from) / attempts
        complaint.complete("callback", DESK, reached=False)
    result = complaint.complete("close", DESK, **CLOSE)

    assert complaint.created() == ["handle_desk", "reply"] + ["callback"] * POLICY["callback_attempts"] + [
        "close"
    ]
    assert complaint.status() == "completed"
    assert result["element_id"] == "close"
    [closed] = announced(routing, "complaint.closed")
    assert (closed["closed_as"], closed["callback_attempts_made"]) == (
        "no_answer",
        POLICY["callback_attempts"],
    )


def test_a_letter_gets_a_written_reply(case, routing):
    complaint = case(channel="letter", category="environment", handle_directly=True)
    complaint.complete("handle_desk", DESK, outcome="resolved")
    complaint.complete("reply_written", DESK, reply_text="书面答复已寄出")

    assert complaint.created() == ["handle_desk", "reply_written"]
    assert ("written_reply", "customer") in notifications(routing)
    assert ("reply", "customer") not in notifications(routing)
    assert complaint.status() == "running"  # waiting to call back


SLOW_HANDLERS = {**POLICY, "handler_acts_within_seconds": 30 * 86400}  # the reply date comes first


def test_the_reply_date_is_postponed_at_most_twice_then_the_store_manager_takes_it(case, routing):
    complaint = case(policy=SLOW_HANDLERS, promised_reply_date="2026-11-25")
    complaint.wait(days=3, hours=14)  # past 2026-11-25 23:59:59 in the mall (UTC+8)
    assert complaint.open_tasks(FLOOR) == [] and complaint.open_tasks(DESK) == ["agree_reply_date"]
    complaint.complete("agree_reply_date", DESK, progress_told="商户仍在核实", customer_agreed=True,
                       new_reply_date="2026-11-28")  # fmt: skip
    assert complaint.open_tasks(FLOOR) == ["handle_floor"]  # back to whoever held it
    complaint.wait(days=3)
    complaint.complete("agree_reply_date", DESK, progress_told="仍在处理", customer_agreed=True,
                       new_reply_date="2026-12-01")  # fmt: skip
    complaint.wait(days=3)
    complaint.complete("agree_reply_date", DESK, progress_told="再次延期", customer_agreed=True,
                       new_reply_date="2026-12-04")  # fmt: skip

    assert complaint.created() == ["handle_floor", "agree_reply_date", "handle_floor", "agree_reply_date",
                                   "handle_floor", "agree_reply_date", "handle_store"]  # fmt: skip
    assert ("reply_dates_exhausted", "store_manager") in notifications(routing)


def test_a_customer_who_does_not_agree_to_a_later_reply_date_goes_to_the_store_manager(case):
    complaint = case(category="environment", department="cleaning", policy=SLOW_HANDLERS)
    complaint.wait(days=4)
    complaint.complete("agree_reply_date", DESK, progress_told="清洁公司整改中", customer_agreed=False,
                       new_reply_date="2026-11-30")  # fmt: skip

    assert complaint.created() == ["handle_department", "agree_reply_date", "handle_store"]
    assert complaint.open_tasks(STORE) == ["handle_store"]


def test_an_outside_route_is_tracked_until_it_concludes_and_closes_the_case(case, api, staff, routing):
    complaint = case(category="price", merchant=MERCHANT)
    message = {"name": "outside_route", "data": {"body": "consumer_association", "reference": "XB-2026-118"},
               "idempotency_key": "outside-1"}  # fmt: skip
    delivered = api.post(f"/cases/{complaint.id}/messages", json=message, headers=staff("service_desk"))
    assert delivered.json["status"] == "delivered"
    assert complaint.open_tasks(DESK) == ["merchant_call", "track_outside_route"]
    complaint.complete("track_outside_route", DESK, outside_result="消协调解：退一赔一", **CLOSE)

    assert sorted(complaint.created()) == ["handle_floor", "merchant_call", "track_outside_route"]
    assert complaint.events() == ["complaint.acknowledged", "complaint.triaged", "complaint.outside_route",
                                  "complaint.closed"]  # fmt: skip
    assert complaint.status() == "completed"  # closing ends the other branches
    assert complaint.open_tasks(FLOOR) == [] and complaint.open_tasks(DESK) == []
    [route] = announced(routing, "complaint.outside_route")
    assert route["outside_route"]["body"] == "consumer_association"


def test_a_deployed_change_to_triage_routes_new_cases_only(case, routing):
    before = case(category="quality")
    changed = (BPMN_DIR / "triage.dmn").read_text(encoding="utf-8")
    quality_rule = '<outputEntry id="Rule_quality_queue">\n          <text>"operations_manager"</text>'
    assert quality_rule in changed
    changed = changed.replace(quality_rule, quality_rule.replace("operations_manager", "floor_supervisor"))
    bpmn = (BPMN_DIR / "complaint.bpmn").read_text(encoding="utf-8")
    command = DeployProcess(
        bpmn, {"triage.dmn": changed}, "designer", "quality to the floor", "complaint.bpmn"
    )
    version, created = routing.handle(handlers.deploy_process, command)

    after = case(category="quality", number="TS-20261122-0002")

    assert created and version.version == 2
    assert before.created() == ["handle_ops"]
    assert after.created() == ["handle_floor"]


def test_a_merchant_price_complaint_posted_to_intake_runs_the_whole_path(
    routing, intake, api, staff, clock, tokens
):
    """The public path end to end: intake's POST, its outbox relay, the (in-memory) broker,
    routing's consumer, then the task API and the clock, as the one-process run wires them."""
    from services.background import Background
    from services.intake.app import create_app as create_intake_app
    from services.registry import ConsumerWorker
    from tests.conftest import bearer
    from tests.integration.conftest import complaint as desk_complaint
    from tests.support.waiting import eventually

    deploy_mall_diagram(routing)
    workers = Background([intake.relay(), ConsumerWorker(routing.consumer())]).start()
    try:
        body = desk_complaint(category="price")  # a 3F shop, M-3F-001, by phone
        posted = (
            create_intake_app(intake)
            .test_client()
            .post("/complaints", json=body, headers=bearer(tokens, "service_desk", subject="desk"))
        )
        assert posted.status_code == 201, posted.json
        eventually(lambda: api.get(f"/cases/{posted.json['id']}", headers=staff("operations_manager")).status_code
                   == 200, timeout=30)  # fmt: skip
    finally:
        workers.stop()
    settle_price_complaint_on_the_floor(Case(routing, api, staff, clock, posted.json["id"]))

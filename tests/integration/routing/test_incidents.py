"""A step that raises: the case stays where it was, with an incident that can be retried."""

from __future__ import annotations

import pytest

from services.routing.engine import EngineError
from tests.conftest import bearer
from tests.integration.routing.conftest import POLICY, deploy, diagram, open_tasks, sabotaged, task_id


def test_a_failing_step_records_an_incident_without_blocking_other_cases(routing, start, api, staff):
    deploy(routing)
    broken = start(
        policy={key: value for key, value in POLICY.items() if key != "handler_acts_within_seconds"}
    )
    healthy = start(number="TS-20261122-0002")

    case = api.get(f"/cases/{broken}", headers=staff("operations_manager")).json

    assert case["status"] == "incident"
    [incident] = case["incidents"]
    assert incident["step"] == "start" and "handler_acts_within_seconds" in incident["error"]
    assert open_tasks(routing, broken) == []
    assert open_tasks(routing, healthy) == ["handle_floor"]
    timeline = api.get(f"/cases/{broken}/timeline", headers=staff("operations_manager")).json
    assert [step["kind"] for step in timeline] == ["case_started", "incident"]


def test_an_incident_is_retried_once_its_data_is_corrected(routing, start, api, staff):
    deploy(routing)
    broken = start(
        policy={key: value for key, value in POLICY.items() if key != "handler_acts_within_seconds"}
    )
    ops = staff("operations_manager")

    failed_again = api.post(f"/cases/{broken}/retry", json={}, headers=ops)
    listed = api.get("/incidents", headers=ops).json
    told = _notices(routing, "case_stopped")
    fixed = api.post(f"/cases/{broken}/retry", json={"data": {"policy": POLICY}}, headers=ops)
    not_stopped = api.post(f"/cases/{broken}/retry", json={}, headers=ops)

    assert failed_again.status_code == 409
    # still one stopped case, with the latest error; the operations manager was told once, when it stopped
    assert [(item["case_id"], item["step"]) for item in listed] == [(broken, "retry")]
    assert [(notice["to"], notice["data"]) for notice in told] == [("operations_manager", {"step": "start"})]
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["status"] == "running" and fixed.json["current_elements"] == [
        "handle_floor",
        "handle_floor_timeout",
    ]
    assert all(incident["resolved_at"] for incident in fixed.json["incidents"])
    assert len(fixed.json["incidents"]) == 2
    assert not_stopped.status_code == 409
    assert api.post(f"/cases/{broken}/retry", json={}, headers=staff("service_desk")).status_code == 403


def test_a_script_reaching_for_a_builtin_it_may_not_use_stops_its_case_with_an_incident(routing, start):
    from services.routing.domain.commands import DeployProcess

    text = sabotaged('x = hash("escape")')
    command = DeployProcess(text, {"triage_v1.dmn": diagram("triage_v1.dmn")}, "designer", None, "hash.bpmn")
    routing.bus.handle(command)  # passes the deploy check: hash is an ordinary name

    case = start()
    second = start(number="TS-20261122-0002")  # the worker went on to the next complaint

    with routing.uow() as uow:
        [incident] = uow.cases.incidents(case)
        status = uow.cases.get("demo", case).status
        second_incidents = uow.cases.incidents(second)
    assert status == "incident" and incident["detail"]["element"] == "sneaky"
    assert "hash" in incident["error"]
    assert len(second_incidents) == 1 and open_tasks(routing, second) == []


def test_a_script_that_never_ends_stops_its_case_with_an_incident_and_frees_the_worker(routing, start):
    from services.routing.domain.commands import DeployProcess

    endless = "n = 0\nwhile True:\n    n = n + 1"
    text = sabotaged(endless)
    command = DeployProcess(text, {"triage_v1.dmn": diagram("triage_v1.dmn")}, "designer", None, "loop.bpmn")
    routing.bus.handle(command)

    case = start()

    with routing.uow() as uow:
        [incident] = uow.cases.incidents(case)
    assert incident["detail"]["element"] == "sneaky"
    assert "longer than" in incident["error"]


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("total = sum(range(10**12))", "budget"),  # one call into C: the line tracer never sees it
        ("big = 10**10**8", "budget"),
        ('text = "x" * 10**10', "MemoryError"),  # the sandbox's memory limit refuses it at once
    ],
)
def test_one_long_call_into_c_stops_its_case_with_an_incident_and_the_worker_goes_on(
    routing, start, api, staff, script, error
):
    from services.routing.domain.commands import DeployProcess
    from tests.integration.routing.conftest import diagram, task_id

    deploy(routing)
    healthy = start()
    text = sabotaged(script)
    command = DeployProcess(text, {"triage_v1.dmn": diagram("triage_v1.dmn")}, "designer", None, "c.bpmn")
    routing.bus.handle(command)

    stopped = start(number="TS-20261122-0002")
    completed = api.post(
        f"/tasks/{task_id(routing, healthy, 'handle_floor')}/complete",
        json={"data": {"outcome": "resolved"}},
        headers=staff("floor_supervisor", floors=["3F"]),
    )

    with routing.uow() as uow:
        [incident] = uow.cases.incidents(stopped)
        status = uow.cases.get("demo", stopped).status
    assert status == "incident" and incident["detail"]["element"] == "sneaky"
    assert error in incident["error"]
    assert completed.status_code == 200, completed.json
    assert open_tasks(routing, healthy) == ["reply"]


def test_an_incidents_error_quoting_the_customers_text_is_masked_for_staff_not_holding_the_case(
    routing, start, api, staff
):
    from services.routing.domain.commands import DeployProcess

    text = sabotaged('n = int(complaint["description"])')
    routing.bus.handle(
        DeployProcess(text, {"triage_v1.dmn": diagram("triage_v1.dmn")}, "designer", None, "int.bpmn"),
    )
    case = start(description="王女士请回电 13912345678")

    [as_written] = api.get(f"/cases/{case}", headers=staff("service_desk")).json["incidents"]
    [masked] = api.get(f"/cases/{case}", headers=staff("operations_manager")).json["incidents"]
    timeline = api.get(f"/cases/{case}/timeline", headers=staff("process_designer")).json

    assert "王女士请回电 13912345678" in as_written["error"]
    assert "王**请回电 139****5678" in masked["error"] and "13912345678" not in masked["error"]
    assert "13912345678" not in str(timeline) and "王女士" not in str(timeline)


def test_a_completion_whose_step_fails_leaves_the_task_open_with_its_holder_and_writes_the_incident(
    routing, start, api, staff, monkeypatch
):
    deploy(routing)
    case = start()
    supervisor = staff("floor_supervisor", floors=["3F"])
    task = task_id(routing, case, "handle_floor")
    assert api.post(f"/tasks/{task}/claim", headers=supervisor).status_code == 200
    with routing.uow() as uow:
        before = uow.cases.get("demo", case)

    def failing(source, step, now):
        raise EngineError("ValueError: the reply's deadline cannot be computed", "set_deadline")

    with monkeypatch.context() as patched:
        patched.setattr(routing.context.sandbox, "run", failing)
        refused = api.post(
            f"/tasks/{task}/complete", json={"data": {"outcome": "resolved"}}, headers=supervisor
        )

    assert refused.status_code == 409 and "incident" in refused.json["message"]
    with routing.uow() as uow:
        [row] = uow.tasks.open_for_case(case)
        after = uow.cases.get("demo", case)
        [incident] = uow.cases.incidents(case)
        kinds = [entry["kind"] for entry in uow.cases.timeline(case)]
        announced = uow.conn.execute(
            "SELECT envelope->>'type' AS type, envelope->'payload'->>'kind' AS kind FROM routing.outbox"
            " ORDER BY created_at"
        ).fetchall()
    assert (row.id, row.state, row.assignee, row.closed_at) == (task, "claimed", "floor_supervisor-1", None)
    assert after.status == "incident" and after.revision == before.revision + 1
    assert after.state == before.state  # the workflow as it was: the step can be retried
    assert incident["detail"]["element"] == "set_deadline"
    assert kinds[-2:] == ["task_claimed", "incident"] and "task_completed" not in kinds
    # nothing announced of the failed completion; the operations manager is told the case stopped
    assert [event["type"] for event in announced[-2:]] == ["task.claimed", "notification.requested"]
    assert announced[-1]["kind"] == "case_stopped"


def _notices(routing, kind: str) -> list[dict]:
    with routing.uow() as uow:
        rows = uow.conn.execute(
            "SELECT envelope FROM routing.outbox WHERE routing_key = 'notification.requested' ORDER BY created_at"
        ).fetchall()
    return [row["envelope"]["payload"] for row in rows if row["envelope"]["payload"]["kind"] == kind]


def _stop_on_completion(routing, api, supervisor, task, monkeypatch, data):
    def failing(source, step, now):
        raise EngineError("ValueError: the reply's deadline cannot be computed", "set_deadline")

    with monkeypatch.context() as patched:
        patched.setattr(routing.context.sandbox, "run", failing)
        return api.post(f"/tasks/{task}/complete", json={"data": data}, headers=supervisor)


def test_the_retry_after_a_repair_applies_the_completion_its_handler_submitted(
    routing, start, api, staff, monkeypatch
):
    deploy(routing)
    case = start()
    supervisor = staff("floor_supervisor", floors=["3F"])
    ops = staff("operations_manager")
    task = task_id(routing, case, "handle_floor")
    assert api.post(f"/tasks/{task}/claim", headers=supervisor).status_code == 200
    refused = _stop_on_completion(routing, api, supervisor, task, monkeypatch, {"outcome": "resolved"})
    [listed] = api.get("/incidents", headers=ops).json

    retried = api.post(f"/cases/{case}/retry", json={}, headers=ops)

    assert refused.status_code == 409 and "the submission is kept" in refused.json["message"]
    assert listed["held_by"] == "floor_supervisor-1"
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "running" and "handle_floor" not in retried.json["current_elements"]
    assert all(incident["resolved_at"] for incident in retried.json["incidents"])
    with routing.uow() as uow:
        row = uow.tasks.get("demo", task)
        timeline = uow.cases.timeline(case)
        completed = uow.conn.execute(
            "SELECT envelope FROM routing.outbox WHERE routing_key LIKE 'task.completed%%'"
        ).fetchall()
    assert (row.state, row.closed_by) == ("completed", "floor_supervisor-1")
    [entry] = [entry for entry in timeline if entry["kind"] == "task_completed"]
    assert (entry["actor"], entry["detail"]) == (
        "floor_supervisor-1",
        {"data": {"outcome": "resolved"}, "applied_by": "operations_manager-1"},
    )
    kinds = [entry["kind"] for entry in timeline]
    assert kinds[-1] == "incident_resolved" and kinds.index("task_completed") > kinds.index("incident")
    [event] = completed
    assert event["envelope"]["payload"]["data"] == {"outcome": "resolved"}
    assert event["envelope"]["actor"]["id"] == "floor_supervisor-1"


def test_a_task_claimed_by_someone_else_since_the_stop_is_left_for_them_by_the_retry(
    routing, start, api, staff, tokens, monkeypatch
):
    deploy(routing)
    case = start()
    first = staff("floor_supervisor", floors=["3F"])
    colleague = bearer(tokens, "floor_supervisor", subject="floor3b", floors=["3F"])
    ops = staff("operations_manager")
    task = task_id(routing, case, "handle_floor")
    assert api.post(f"/tasks/{task}/claim", headers=first).status_code == 200
    _stop_on_completion(routing, api, first, task, monkeypatch, {"outcome": "resolved"})
    assert api.post(f"/tasks/{task}/unclaim", headers=first).status_code == 200
    assert api.post(f"/tasks/{task}/claim", headers=colleague).status_code == 200

    retried = api.post(f"/cases/{case}/retry", json={}, headers=ops)

    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "running" and "handle_floor" in retried.json["current_elements"]
    with routing.uow() as uow:
        row = uow.tasks.get("demo", task)
    assert (row.state, row.assignee) == ("claimed", "floor3b")


def test_erasing_a_stopped_case_erases_the_customer_from_the_completion_its_incident_keeps(
    routing, start, api, staff, monkeypatch
):
    deploy(routing)
    case = start(customer={"name": "王女士", "phone": "13912345678"})
    supervisor = staff("floor_supervisor", floors=["3F"])
    task = task_id(routing, case, "handle_floor")
    data = {"outcome": "resolved", "resolution": "已致电王女士 13912345678，退款已办"}
    _stop_on_completion(routing, api, supervisor, task, monkeypatch, data)

    with routing.uow() as uow:
        uow.erasure.erase([case])
    with routing.uow() as uow:
        [incident] = uow.cases.incidents(case)

    kept = incident["detail"]["completion"]["data"]["resolution"]
    assert "王女士" not in kept and "13912345678" not in kept and "退款已办" in kept


def test_a_case_stopped_at_its_start_acknowledges_the_complaint_at_once_and_its_retries_do_not_again(
    routing, start, api, staff
):
    from tests.integration.routing.test_complaint_diagram import deploy_mall_diagram

    deploy_mall_diagram(routing)  # its start event acknowledges, its first script needs the policy
    policy = {**POLICY, "time_zone": "Asia/Shanghai"}
    lacking = {key: value for key, value in policy.items() if key != "major_unresolved_after_seconds"}
    broken = start(policy=lacking)
    ops = staff("operations_manager")
    stopped_acks = _notices(routing, "acknowledgement")

    failed_again = api.post(f"/cases/{broken}/retry", json={}, headers=ops)
    fixed = api.post(f"/cases/{broken}/retry", json={"data": {"policy": policy}}, headers=ops)

    assert [(notice["to"], notice["element_id"]) for notice in stopped_acks] == [("customer", "start")]
    assert (failed_again.status_code, fixed.status_code) == (409, 200), fixed.json
    assert fixed.json["status"] == "running"
    assert len(_notices(routing, "acknowledgement")) == 1  # told once, when it stopped
    with routing.uow() as uow:
        kinds = [entry["kind"] for entry in uow.cases.timeline(broken)]
    assert kinds.count("complaint.acknowledged") == 1 and kinds.index("complaint.acknowledged") < kinds.index(
        "incident"
    )

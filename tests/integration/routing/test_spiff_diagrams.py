"""Diagrams made with spiff-arena's modeler deploy and run: lanes as queues, spiffworkflow:properties,
instructions for the person, pre- and post-scripts, calledDecisionId, JSON-schema forms deployed with
the diagram — with the same validation and the same safety check on every piece of Python."""

from __future__ import annotations

import pytest

from tests.integration.routing.conftest import DIAGRAMS, diagram, open_tasks, task_id

SPIFF = DIAGRAMS / "spiff"
FORM = "handle-floor-schema.json"


def spiff_body(bpmn: str | None = None, forms: dict[str, str] | None = None) -> dict:
    return {
        "bpmn": bpmn or (SPIFF / "complaint_spiff.bpmn").read_text(encoding="utf-8"),
        "bpmn_name": "complaint_spiff.bpmn",
        "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")},
        "forms": {FORM: (SPIFF / FORM).read_text(encoding="utf-8")} if forms is None else forms,
    }


@pytest.fixture
def designer(staff):
    return staff("process_designer")


def test_a_spiff_arena_diagram_deploys_and_its_task_shows_the_json_schema_form_and_instructions(
    api, routing, start, staff, designer
):
    deployed = api.post("/processes", json=spiff_body(), headers=designer)
    case = start()

    assert deployed.status_code == 201, deployed.json
    assert deployed.json["process_key"] == "complaint" and deployed.json["form_files"] == [FORM]
    assert open_tasks(routing, case) == ["handle_floor"]  # triaged by calledDecisionId, to the lane's queue
    task = api.get(
        f"/tasks/{task_id(routing, case, 'handle_floor')}", headers=staff("floor_supervisor", floors=["3F"])
    ).json
    assert task["queue"] == "floor_supervisor"
    assert task["instructions"].startswith("Call the shop on floor")
    fields = {field["id"]: (field["type"], field["required"]) for field in task["form"]}
    assert fields == {
        "outcome": ("enum", True),
        "refund": ("long", True),
        "shop_agreed": ("boolean", False),
        "visit_date": ("date", False),
        "note": ("string", False),
    }
    assert [option[0] for option in task["form"][0]["options"]] == ["refund", "exchange", "apology"]


def test_a_spiff_task_is_completed_against_its_form_and_its_scripts_and_properties_run(
    api, routing, start, staff, designer
):
    api.post("/processes", json=spiff_body(), headers=designer)
    case = start()
    floor = staff("floor_supervisor", floors=["3F"])
    task = task_id(routing, case, "handle_floor")

    refused = api.post(f"/tasks/{task}/complete", json={"data": {"outcome": "refund"}}, headers=floor)
    wrong = api.post(
        f"/tasks/{task}/complete", json={"data": {"outcome": "cash", "refund": 1}}, headers=floor
    )
    done = api.post(
        f"/tasks/{task}/complete", json={"data": {"outcome": "refund", "refund": 120}}, headers=floor
    )
    manual = api.post(
        f"/tasks/{task_id(routing, case, 'tell_customer')}/complete",
        json={"data": {}},
        headers=staff("service_desk"),
    )

    assert refused.status_code == 400 and "refund" in refused.json["errors"]["json"]
    assert wrong.status_code == 400 and "outcome" in wrong.json["errors"]["json"]
    assert done.status_code == 200 and manual.status_code == 200
    with routing.uow() as uow:
        rows = uow.conn.execute(
            "SELECT routing_key, envelope->'payload'->'data' AS data FROM routing.outbox"
            " WHERE routing_key LIKE 'complaint.%%' ORDER BY created_at"
        ).fetchall()
        status = uow.cases.get("demo", case).status
    events = {row["routing_key"]: row["data"] for row in rows}
    assert list(events) == ["complaint.acknowledged", "complaint.triaged", "complaint.closed"]
    assert events["complaint.triaged"]["triaged_to"] == "floor_supervisor"  # the post-script ran
    assert (events["complaint.closed"]["attempts"], events["complaint.closed"]["refund_yuan"]) == (1, 120)
    assert status == "completed"


def _refused(api, designer, body) -> str:
    answer = api.post("/processes", json=body, headers=designer)
    assert answer.status_code == 400, answer.json
    return answer.json["message"]


def test_a_spiff_diagram_with_unsafe_python_in_a_pre_script_is_refused_naming_the_element(api, designer):
    text = (SPIFF / "complaint_spiff.bpmn").read_text(encoding="utf-8").replace("attempts = 1", "import os")

    message = _refused(api, designer, spiff_body(text))

    assert "handle_floor" in message and "imports" in message


def test_a_spiff_diagram_whose_form_file_was_not_deployed_is_refused_naming_the_task_and_the_file(
    api, designer
):
    message = _refused(api, designer, spiff_body(forms={}))

    assert "handle_floor" in message and FORM in message


def test_a_spiff_form_that_cannot_be_a_task_form_is_refused_naming_the_property(api, designer):
    schema = (SPIFF / FORM).read_text(encoding="utf-8").replace('"type": "integer"', '"type": "array"')
    answer = api.post("/processes", json=spiff_body(forms={FORM: schema}), headers=designer)

    assert answer.status_code == 400
    assert "refund" in answer.json["message"] and "array" in answer.json["message"]
    assert "forms" in answer.json["errors"]["json"]


def test_a_spiff_diagram_announcing_an_unknown_event_is_refused(api, designer):
    text = (
        (SPIFF / "complaint_spiff.bpmn")
        .read_text(encoding="utf-8")
        .replace('value="complaint.closed"', 'value="complaint.vanished"')
    )

    message = _refused(api, designer, spiff_body(text))

    assert "complaint.vanished" in message and "closed" in message

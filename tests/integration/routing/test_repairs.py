"""Repairs through the API: the cases stopped by incidents listed, running cases moved to another
version of their process (one, or all of a version), and a broken case fixed by a new version,
moved and retried."""

from __future__ import annotations

import pytest

from tests.integration.routing.conftest import diagram, open_tasks, sabotaged, task_id

MOVE = {"reason": "修正后的新版本"}


def _deploy(api, staff, bpmn_text: str):
    body = {"bpmn": bpmn_text, "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}
    answer = api.post("/processes", json=body, headers=staff("process_designer"))
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_case_waiting_at_handle_floor_moves_to_the_next_version_and_completes_there(
    routing, start, api, staff
):
    _deploy(api, staff, diagram("complaint_v1.bpmn"))
    case = start()
    due = api.get(f"/cases/{case}", headers=staff("operations_manager")).json["next_due_at"]
    _deploy(
        api, staff, diagram("complaint_v2.bpmn").replace('name="Handle complaint"', 'name="Handle it (v2)"')
    )
    floor = staff("floor_supervisor", floors=["3F"])
    before = task_id(routing, case, "handle_floor")

    moved = api.post(
        f"/cases/{case}/migrate", json={**MOVE, "to_version": 2}, headers=staff("process_designer")
    )
    task = api.get(f"/tasks/{before}", headers=floor).json
    done = api.post(f"/tasks/{before}/complete", json={"data": {"outcome": "resolved"}}, headers=floor)

    assert moved.status_code == 200, moved.json
    assert (moved.json["from_version"], moved.json["to_version"], moved.json["moved"]) == (1, 2, True)
    assert task["title"] == "Handle it (v2)"  # the same task, as version 2 names it
    assert done.status_code == 200, done.json
    view = api.get(f"/cases/{case}", headers=staff("operations_manager")).json
    assert view["version"] == 2 and open_tasks(routing, case) == ["reply"]
    assert view["next_due_at"] is None or view["next_due_at"] != due
    timeline = api.get(f"/cases/{case}/timeline", headers=staff("operations_manager")).json
    [migrated] = [entry for entry in timeline if entry["kind"] == "case_migrated"]
    assert migrated["detail"] == {"from_version": 1, "to_version": 2, "reason": "修正后的新版本"}
    assert migrated["actor"] == "process_designer-1"


def test_the_timers_of_a_moved_case_keep_their_due_times(routing, start, api, staff):
    _deploy(api, staff, diagram("complaint_v1.bpmn"))
    case = start()
    timers = api.get(f"/cases/{case}/timers", headers=staff("operations_manager")).json
    _deploy(api, staff, diagram("complaint_v2.bpmn"))

    api.post(f"/cases/{case}/migrate", json={**MOVE, "to_version": 2}, headers=staff("process_designer"))

    assert api.get(f"/cases/{case}/timers", headers=staff("operations_manager")).json == timers


def test_a_case_waiting_at_an_element_the_target_lacks_is_refused_by_name(routing, start, api, staff):
    _deploy(api, staff, diagram("complaint_v1.bpmn"))
    _deploy(api, staff, diagram("complaint_v2.bpmn"))
    case = start()  # on version 2: waits at acknowledge, which version 1 does not have
    designer = staff("process_designer")

    dry = api.post(
        f"/cases/{case}/migrate", json={**MOVE, "to_version": 1, "dry_run": True}, headers=designer
    )
    refused = api.post(f"/cases/{case}/migrate", json={**MOVE, "to_version": 1}, headers=designer)

    assert dry.status_code == 200 and dry.json["moved"] is False
    assert {"element_id": "acknowledge", "waiting": True} in dry.json["missing"]
    assert refused.status_code == 409 and "acknowledge" in refused.json["message"]
    assert api.get(f"/cases/{case}", headers=staff("operations_manager")).json["version"] == 2
    assert open_tasks(routing, case) == ["acknowledge"]


def test_every_case_of_a_version_moves_at_once_and_those_that_cannot_are_listed(routing, start, api, staff):
    _deploy(api, staff, diagram("complaint_v1.bpmn"))
    movable = [start(number=f"TS-20261122-000{n}") for n in (1, 2)]
    _deploy(api, staff, diagram("complaint_v2.bpmn"))
    designer = staff("process_designer")

    counted = api.post(
        "/processes/complaint/1/migrate", json={**MOVE, "to_version": 2, "dry_run": True}, headers=designer
    )
    moved = api.post("/processes/complaint/1/migrate", json={**MOVE, "to_version": 2}, headers=designer)
    back = api.post(
        "/processes/complaint/2/migrate", json={**MOVE, "to_version": 1, "dry_run": True}, headers=designer
    )

    assert (counted.json["cases"], counted.json["movable"], counted.json["moved"]) == (2, 2, 0)
    assert (moved.json["cases"], moved.json["movable"], moved.json["moved"]) == (2, 2, 2)
    for case in movable:
        assert api.get(f"/cases/{case}", headers=staff("operations_manager")).json["version"] == 2
    assert back.json["cases"] == 2 and back.json["movable"] == 2  # at handle_floor: version 1 has it


@pytest.mark.parametrize(
    ("body", "who", "status"),
    [
        ({**MOVE, "to_version": 9}, "process_designer", 400),
        ({"to_version": 2}, "process_designer", 400),
        ({**MOVE, "to_version": 2}, "service_desk", 403),
        ({**MOVE, "to_version": 2}, "floor_supervisor", 403),
    ],
    ids=["unknown version", "no reason", "desk", "floor supervisor"],
)
def test_a_move_is_refused_for_an_unknown_version_no_reason_and_other_roles(
    routing, start, api, staff, body, who, status
):
    _deploy(api, staff, diagram("complaint_v1.bpmn"))
    _deploy(api, staff, diagram("complaint_v2.bpmn"))
    case = start()

    answer = api.post(f"/cases/{case}/migrate", json=body, headers=staff(who, floors=["3F"]))

    assert answer.status_code == status, answer.json
    assert api.get(f"/cases/{case}", headers=staff("operations_manager")).json["version"] == 2


def test_a_case_broken_by_a_script_is_listed_fixed_by_a_new_version_moved_and_retried(
    routing, start, api, staff
):
    _deploy(api, staff, sabotaged('x = hash("escape")'))
    broken = start()
    designer = staff("process_designer")

    listed = api.get("/incidents", headers=staff("store_manager")).json
    fixed = _deploy(api, staff, diagram("complaint_v1.bpmn"))
    moved = api.post(
        f"/cases/{broken}/migrate", json={**MOVE, "to_version": fixed["version"]}, headers=designer
    )
    retried = api.post(f"/cases/{broken}/retry", json={}, headers=staff("admin"))

    [incident] = listed
    assert (incident["case_id"], incident["element_id"], incident["version"]) == (broken, "sneaky", 1)
    assert "hash" in incident["error"]
    assert moved.status_code == 200, moved.json
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "running" and open_tasks(routing, broken) == ["handle_floor"]
    assert api.get("/incidents", headers=staff("operations_manager")).json == []
    assert api.get(f"/cases/{broken}", headers=staff("admin")).status_code == 200


def test_moving_a_whole_version_names_the_stopped_cases_that_still_need_their_retry(
    routing, start, api, staff
):
    _deploy(api, staff, sabotaged('x = hash("escape")'))
    broken = start()
    fixed = _deploy(api, staff, diagram("complaint_v1.bpmn"))

    moved = api.post(
        "/processes/complaint/1/migrate",
        json={**MOVE, "to_version": fixed["version"]},
        headers=staff("process_designer"),
    )

    assert moved.status_code == 200, moved.json
    assert [case["case_id"] for case in moved.json["to_retry"]] == [broken]
    assert (
        api.get("/incidents", headers=staff("operations_manager")).json[0]["case_id"] == broken
    )  # still stopped


@pytest.mark.parametrize("who", ["service_desk", "floor_supervisor", "deputy_store_manager"])
def test_the_incident_list_is_for_those_who_repair(api, staff, who):
    assert api.get("/incidents", headers=staff(who, floors=["3F"])).status_code == 403

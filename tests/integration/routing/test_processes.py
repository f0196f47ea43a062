"""Deploying diagrams: validation, versions, and cases pinned to their version."""

from __future__ import annotations

import pytest

from tests.integration.routing.conftest import deploy, diagram, open_tasks, task_id
from tests.support.mall import mall_diagram


def test_each_case_runs_on_the_version_it_started_with(routing, start, api, staff):
    v1 = deploy(routing)
    first = start(number="TS-20261122-0001")
    v2 = deploy(routing, "complaint_v2.bpmn")
    second = start(number="TS-20261122-0002")

    assert (v1.version, v2.version) == (1, 2)
    assert open_tasks(routing, first) == ["handle_floor"]
    assert open_tasks(routing, second) == ["acknowledge"]
    # the first case goes on along v1 after v2 is deployed
    supervisor = staff("floor_supervisor", floors=["3F"])
    done = api.post(
        f"/tasks/{task_id(routing, first, 'handle_floor')}/complete",
        json={"data": {"outcome": "resolved"}},
        headers=supervisor,
    )
    assert done.status_code == 200, done.json
    assert open_tasks(routing, first) == ["reply"]
    case = api.get(f"/cases/{first}", headers=staff("operations_manager")).json
    assert (case["version"], case["current_elements"]) == (1, ["reply"])


@pytest.mark.parametrize(
    ("bpmn", "element", "words"),
    [
        ("bad_unknown_lane.bpmn", "janitor", "not one of the mall's queues"),
        ("bad_missing_dmn_ref.bpmn", "triage", "no_such_decision"),
        ("bad_script_import.bpmn", "sneaky", "imports"),
        ("bad_script_dunder.bpmn", "sneaky", "__class__"),
        ("bad_broken_flow.bpmn", "sequence flow", "not in the diagram"),
        ("bad_not_xml.bpmn", "bad_not_xml.bpmn", "not well-formed XML"),
    ],
)
def test_a_bad_diagram_is_refused_naming_the_element(api, staff, bpmn, element, words):
    body = {"bpmn": diagram(bpmn), "bpmn_name": bpmn, "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}

    response = api.post("/processes", json=body, headers=staff("process_designer"))

    assert response.status_code == 400
    assert element in response.json["message"] and words in response.json["message"]
    assert api.get("/processes", headers=staff("process_designer")).json == []


ESCAPES = {
    "__import__": ('__import__("os").system("id")', "__import__ is not allowed"),
    "open": ('data = open("/etc/passwd").read()', "open is not allowed"),
    "class walk": ("classes = ().__class__.__base__.__subclasses__()", "attribute .__class__"),
    "generator frame": (
        "g = (g.gi_frame.f_back for _ in [1])\nf = list(g)[0].f_globals",
        "attribute .gi_frame",
    ),
    "frame globals": ("f = frames[0].f_globals['__builtins__']", "attribute .f_globals"),
    "format spec": ('leak = "{0.__class__}".format(1)', "attribute .format"),
    "getattr": ('leak = getattr(1, "__class__")', "getattr is not allowed"),
    "type": ("base = type(1)", "type is not allowed"),
    "lambda": ("f = lambda: 1", "defining functions"),
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_a_script_task_reaching_past_its_sandbox_is_refused_at_deploy(api, staff, escape):
    script, words = ESCAPES[escape]
    text = diagram("bad_script_import.bpmn").replace('import os\nos.system("id")', script)
    body = {"bpmn": text, "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}

    response = api.post("/processes", json=body, headers=staff("process_designer"))

    assert response.status_code == 400
    assert "sneaky" in response.json["message"] and words in response.json["message"], response.json
    assert api.get("/processes", headers=staff("process_designer")).json == []


def test_only_designers_deploy_and_an_unchanged_diagram_is_not_a_new_version(api, staff):
    body = {"bpmn": diagram("complaint_v1.bpmn"), "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}
    designer = staff("process_designer")

    refused = api.post("/processes", json=body, headers=staff("operations_manager"))
    first = api.post("/processes", json={**body, "note": "first"}, headers=designer)
    again = api.post("/processes", json=body, headers=designer)
    versions = api.get("/processes", headers=designer).json
    xml = api.get("/processes/complaint/1/bpmn", headers=designer)

    assert refused.status_code == 403
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["version"] == again.json["version"] == 1
    assert [(v["version"], v["note"], v["dmn_files"]) for v in versions] == [(1, "first", ["triage_v1.dmn"])]
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and "handle_floor" in xml.text
    assert api.get("/processes/complaint/9/bpmn", headers=designer).status_code == 404


def test_a_diagram_larger_than_other_requests_deploys_and_one_over_the_limit_is_refused(api, staff):
    dmn = {"triage_v1.dmn": diagram("triage_v1.dmn")}
    drawing_notes = "<!-- " + "布局说明 " * 60_000 + "-->"  # ~900 KB: a big diagram's DI and documentation
    big = diagram("complaint_v1.bpmn").replace("<bpmn:process", drawing_notes + "<bpmn:process", 1)
    designer = staff("process_designer")

    deployed = api.post("/processes", json={"bpmn": big, "dmn": dmn}, headers=designer)
    too_big = api.post("/processes", json={"bpmn": big * 6, "dmn": dmn}, headers=designer)
    task_body = api.post(
        "/tasks/00000000-0000-0000-0000-000000000000/complete",
        json={"data": {"note": "x" * 300_000}},
        headers=staff("floor_supervisor", floors=["3F"]),
    )

    assert deployed.status_code == 201
    assert too_big.status_code == 413 and too_big.json["code"] == 413
    assert task_body.status_code == 413  # the larger limit is the deploy's alone
    assert len(api.get("/processes", headers=designer).json) == 1


def test_a_nul_character_anywhere_in_a_body_is_a_400_naming_the_field(routing, start, api, staff):
    deploy(routing)
    case_id = start()
    floor = staff("floor_supervisor", floors=["3F"])
    body = {"data": {"outcome": "resolved", "resolution": {"steps": ["退款", "bad\x00"]}}}

    response = api.post(
        f"/tasks/{task_id(routing, case_id, 'handle_floor')}/complete", json=body, headers=floor
    )

    assert response.status_code == 400
    assert response.json["errors"]["json"] == {"data": ["must not contain NUL (U+0000)"]}
    assert open_tasks(routing, case_id) == ["handle_floor"]


def test_the_openapi_document_describes_every_routing_route(api):
    spec = api.get("/openapi.json").json

    assert {
        "/processes",
        "/processes/{process_key}/{version}/bpmn",
        "/tasks",
        "/tasks/{task_id}",
        "/tasks/{task_id}/claim",
        "/tasks/{task_id}/unclaim",
        "/tasks/{task_id}/reassign",
        "/tasks/{task_id}/complete",
        "/cases/{case_id}",
        "/cases/{case_id}/timeline",
        "/cases/{case_id}/messages",
        "/cases/{case_id}/retry",
    } <= set(spec["paths"])
    assert "400" in spec["paths"]["/tasks/{task_id}/complete"]["post"]["responses"]
    assert "409" in spec["paths"]["/tasks/{task_id}/complete"]["post"]["responses"]


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ('complaint["promised_reply_date"] + "T23:59:59+08:00"', "UTC offset in 'T23:59:59+08:00'"),
        ('add_seconds(complaint["promised_reply_date"] + "T00:00:00Z", 86399)', "UTC offset in 'T00:00:00Z'"),
        ('end_of_day(complaint["promised_reply_date"], "Asia/Shanghai")', "time zone 'Asia/Shanghai'"),
    ],
    ids=["offset", "utc mark", "zone name"],
)
def test_a_diagram_writing_a_time_zone_as_text_is_refused_naming_the_element(api, staff, written, words):
    """The mall's zone is MALL_TIME_ZONE, given to every case as policy["time_zone"]: a diagram that
    writes its own offset gives a mall elsewhere wrong deadlines."""
    body = mall_diagram()
    shipped = "postponed_to = None"  # in open_case
    assert body["bpmn"].count(shipped) == 1
    body["bpmn"] = body["bpmn"].replace(shipped, f"postponed_to = {written}")

    response = api.post("/processes", json=body, headers=staff("process_designer"))

    assert response.status_code == 400
    assert "open_case" in response.json["message"] and words in response.json["message"], response.json
    assert api.get("/processes", headers=staff("process_designer")).json == []


def _deploy_api(api, staff, bpmn_text: str, note: str | None = None):
    body = {"bpmn": bpmn_text, "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}, "note": note}
    return api.post("/processes", json=body, headers=staff("process_designer"))


def test_an_earlier_version_activated_again_starts_new_cases_while_running_ones_continue(
    routing, start, api, staff
):
    _deploy_api(api, staff, diagram("complaint_v1.bpmn"))
    v2 = _deploy_api(api, staff, diagram("complaint_v2.bpmn"))
    on_v2 = start(number="TS-20261122-0001")
    rolled_back = api.post(
        "/processes/complaint/1/activate",
        json={"reason": "版本2的确认步骤多余，回退"},
        headers=staff("process_designer"),
    )
    on_v1 = start(number="TS-20261122-0002")

    assert v2.status_code == 201 and v2.json["active"] is True
    assert rolled_back.status_code == 200 and rolled_back.json["version"] == 1 and rolled_back.json["active"]
    assert open_tasks(routing, on_v1) == ["handle_floor"]  # v1's first task
    assert open_tasks(routing, on_v2) == ["acknowledge"]  # v2's, and the case stays on v2
    assert api.get(f"/cases/{on_v2}", headers=staff("operations_manager")).json["version"] == 2
    listed = {
        v["version"]: v["active"] for v in api.get("/processes", headers=staff("process_designer")).json
    }
    assert listed == {1: True, 2: False}
    history = api.get("/processes/complaint/activations", headers=staff("process_designer")).json
    assert [(item["version"], item["activated_by"], item["reason"]) for item in history] == [
        (1, "process_designer-1", "版本2的确认步骤多余，回退"),
        (2, "process_designer-1", "deployed"),
        (1, "process_designer-1", "deployed"),
    ]


def test_deploying_the_files_of_an_earlier_version_names_it_and_offers_to_activate_it(api, staff):
    _deploy_api(api, staff, diagram("complaint_v1.bpmn"))
    _deploy_api(api, staff, diagram("complaint_v2.bpmn"))

    again = _deploy_api(api, staff, diagram("complaint_v1.bpmn"))

    assert again.status_code == 200
    assert (again.json["version"], again.json["active"]) == (1, False)
    assert "version 1" in again.json["message"] and "/processes/complaint/1/activate" in again.json["message"]
    assert len(api.get("/processes", headers=staff("process_designer")).json) == 2


def test_what_a_deploy_did_is_said_in_the_designers_language(api, staff):
    body = {"bpmn": diagram("complaint_v1.bpmn"), "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")}}
    chinese = {**staff("process_designer"), "Accept-Language": "zh-CN"}

    deployed = api.post("/processes", json=body, headers=chinese)
    again = api.post("/processes", json=body, headers=chinese)

    assert deployed.json["message"] == "已部署为第 1 版，现已启用"
    assert again.json["message"] == "与第 1 版的文件相同，该版本正在使用：未作更改"


def test_a_diagram_of_another_process_is_kept_apart_and_starts_no_complaint_case(routing, start, api, staff):
    _deploy_api(api, staff, diagram("complaint_v1.bpmn"))
    invoice = diagram("complaint_v2.bpmn").replace(
        '<bpmn:process id="complaint"', '<bpmn:process id="invoice"'
    )

    deployed = _deploy_api(api, staff, invoice)
    case = start()

    assert deployed.status_code == 201
    assert (deployed.json["process_key"], deployed.json["handles_complaints"]) == ("invoice", False)
    assert "starts no complaint cases" in deployed.json["message"]
    assert open_tasks(routing, case) == ["handle_floor"]  # still the complaint process's version 1


@pytest.mark.parametrize(
    ("path", "body", "who", "status"),
    [
        ("/processes/complaint/7/activate", {"reason": "回退"}, "process_designer", 404),
        ("/processes/complaint/1/activate", {"reason": "  "}, "process_designer", 400),
        ("/processes/complaint/1/activate", {}, "process_designer", 400),
        ("/processes/complaint/1/activate", {"reason": "回退"}, "operations_manager", 403),
        ("/processes/complaint/1/activate", {"reason": "再次启用"}, "process_designer", 409),
    ],
    ids=["unknown version", "blank reason", "no reason", "not a designer", "active already"],
)
def test_activation_refuses_an_unknown_version_a_missing_reason_and_other_roles(
    api, staff, path, body, who, status
):
    _deploy_api(api, staff, diagram("complaint_v1.bpmn"))

    answer = api.post(path, json=body, headers=staff(who))

    assert answer.status_code == status, answer.json
    assert (
        api.get("/processes/complaint/activations", headers=staff("process_designer")).json[0]["reason"]
        == "deployed"
    )


@pytest.mark.parametrize(
    ("event", "figure"),
    [("complaint.replied", "on-time reply rate"), ("complaint.called_back", "satisfaction at callback")],
)
def test_a_version_that_stops_announcing_an_event_the_reports_count_is_refused_naming_the_figure(
    api, staff, event, figure
):
    designer = staff("process_designer")
    assert api.post("/processes", json=mall_diagram(), headers=designer).status_code == 201
    body = mall_diagram()
    body["bpmn"] = body["bpmn"].replace(f'<camunda:property name="event" value="{event}"/>', "")
    renamed = mall_diagram()
    renamed["bpmn"] = renamed["bpmn"].replace('name="Call the customer back"', 'name="Phone the customer"')

    refused = api.post("/processes", json=body, headers=designer)
    chinese = api.post("/processes", json=body, headers={**designer, "Accept-Language": "zh-CN"})
    kept = api.post("/processes", json=renamed, headers=designer)

    assert refused.status_code == 400
    [problem] = refused.json["errors"]["json"]["bpmn"]
    assert event in problem and figure in problem and "version 1" in problem
    assert "报表据此统计" in chinese.json["errors"]["json"]["bpmn"][0]
    assert kept.status_code == 201  # renaming an element changes nothing the reports read


def test_a_case_is_read_from_the_elements_saved_with_its_step_and_restored_only_without_them(
    routing, start, api, staff, monkeypatch
):
    deploy(routing)
    case = start()
    reader = staff("operations_manager")
    with routing.uow() as uow:
        saved = uow.cases.get("demo", case).current_elements
    restores = []
    restore = routing.context.engine.restore
    monkeypatch.setattr(routing.context.engine, "restore", lambda *a: restores.append(a) or restore(*a))

    read = api.get(f"/cases/{case}", headers=reader).json
    assert saved == read["current_elements"] == ["handle_floor", "handle_floor_timeout"]
    assert restores == []

    # a case saved before the elements were kept with each step (or just moved to another version)
    with routing.uow() as uow:
        uow.conn.execute("UPDATE routing.cases SET current_elements = NULL WHERE id = %s", (case,))
    assert api.get(f"/cases/{case}", headers=reader).json["current_elements"] == saved
    assert len(restores) == 1


def test_the_customers_a_masked_reader_is_shielded_from_are_those_of_the_workflow_data(routing, start):
    from services.common.personal import customers_in

    deploy(routing)
    case = start(customer={"name": "王女士", "phone": "13912345678"})
    with routing.uow() as uow:
        found = uow.cases.customers(case)
        assert found == customers_in(uow.cases.state_of(case))
    assert {"name": "王女士", "phone": "13912345678"} in found


def test_a_route_that_only_reads_sends_its_statements_without_a_transaction_and_returns_the_connection_as_lent(
    routing, start
):
    from psycopg.pq import TransactionStatus

    deploy(routing)
    case = start()
    with routing.reading() as uow:
        assert uow.cases.summary("demo", case) is not None
        assert uow.conn.info.transaction_status == TransactionStatus.IDLE  # no BEGIN was sent
        lent = uow.conn
    assert lent.autocommit is False  # back in the pool as the pool lent it


def test_a_nul_in_an_address_is_not_found_not_a_database_error(routing, api, staff):
    designer = {**staff("process_designer"), "Accept-Language": "zh-CN"}

    answers = [
        api.get("/processes/%00/1/bpmn", headers=designer),
        api.get("/processes/%00/activations", headers=designer),
        api.post("/processes/%00/1/activate", json={"reason": "x"}, headers=designer),
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert answers[0].json["message"] == "地址有误：其中含有空字符（NUL）"


def test_the_activations_of_a_process_never_deployed_are_not_found(api, staff):
    _deploy_api(api, staff, diagram("complaint_v1.bpmn"))

    unknown = api.get("/processes/nope/activations", headers=staff("process_designer"))
    known = api.get("/processes/complaint/activations", headers=staff("process_designer"))

    assert unknown.status_code == 404 and known.status_code == 200 and len(known.json) == 1

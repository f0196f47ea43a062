"""A case's own diagram for the console, within the reader's scope; a version's DMN files for designers."""

from __future__ import annotations

from tests.integration.routing.conftest import deploy, diagram


def test_a_case_reader_gets_the_diagram_of_the_cases_version_within_its_floors(routing, api, start, staff):
    deploy(routing)
    case_id = start(floor="3F")

    own_floor = api.get(f"/cases/{case_id}/diagram", headers=staff("floor_supervisor", floors=["3F"]))
    other_floor = api.get(f"/cases/{case_id}/diagram", headers=staff("floor_supervisor", floors=["2F"]))

    assert own_floor.status_code == 200 and own_floor.mimetype == "application/xml"
    assert own_floor.get_data(as_text=True) == diagram("complaint_v1.bpmn")
    assert other_floor.status_code == 404


def test_a_designer_reads_a_dmn_file_deployed_with_a_version(routing, api, staff):
    version = deploy(routing)

    found = api.get(
        f"/processes/{version.process_key}/{version.version}/dmn/triage_v1.dmn",
        headers=staff("process_designer"),
    )
    missing = api.get(
        f"/processes/{version.process_key}/{version.version}/dmn/nope.dmn", headers=staff("process_designer")
    )

    assert found.status_code == 200 and "decision" in found.get_data(as_text=True)
    assert missing.status_code == 404

"""File names given on deploy (the diagram's, its DMN files', its form files') are plain file names.

They are kept with the version and read back by name (GET /processes/{key}/{version}/dmn/{name}, the
console's links, `python -m services deploy` takes only a path's last part): a name with a folder in
it, a way up (`..`), a drive or a control character could never be fetched back and, were it ever
written to disk, would land elsewhere. It is refused on deploy with a 400 naming the field.
"""

from __future__ import annotations

import pytest

from tests.integration.routing.conftest import diagram

BAD_NAMES = [
    "../../etc/passwd",
    "/etc/triage_v1.dmn",
    "sub/triage_v1.dmn",
    "..\\triage_v1.dmn",
    "C:triage_v1.dmn",
    "triage?.dmn",
    "triage#1.dmn",
    "triage\r\n_v1.dmn",
    "triage\x00.dmn",
    "..",
    "",
    " ",
]


def _deploy(api, staff, **changes):
    body = {
        "bpmn": diagram("complaint_v1.bpmn"),
        "bpmn_name": "complaint_v1.bpmn",
        "dmn": {"triage_v1.dmn": diagram("triage_v1.dmn")},
        **changes,
    }
    return api.post("/processes", json=body, headers=staff("process_designer"))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_dmn_file_name_with_a_folder_a_way_up_or_a_control_character_is_refused(api, staff, name):
    answer = _deploy(api, staff, dmn={name: diagram("triage_v1.dmn")})

    assert answer.status_code == 400, answer.json
    assert "dmn" in answer.json["errors"]["json"]
    assert api.get("/processes", headers=staff("process_designer")).json == []


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_diagram_or_form_file_name_is_refused(api, staff, name):
    as_diagram = _deploy(api, staff, bpmn_name=name)
    as_form = _deploy(api, staff, forms={name: "{}"})

    assert (as_diagram.status_code, as_form.status_code) == (400, 400)
    assert "bpmn_name" in as_diagram.json["errors"]["json"] and "forms" in as_form.json["errors"]["json"]
    assert api.get("/processes", headers=staff("process_designer")).json == []


def test_plain_file_names_in_any_script_are_deployed_and_read_back(api, staff):
    answer = _deploy(
        api, staff, bpmn_name="投诉流程 v1.bpmn", dmn={"triage-v1.2_final.dmn": diagram("triage_v1.dmn")}
    )

    assert answer.status_code == 201, answer.json
    back = api.get("/processes/complaint/1/dmn/triage-v1.2_final.dmn", headers=staff("process_designer"))
    assert back.status_code == 200 and b"<definitions" in back.data

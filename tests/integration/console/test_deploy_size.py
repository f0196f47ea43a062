"""A diagram deployed from the console's modeler may be as large as routing takes (4 MB), not only
as large as an ordinary form (256 KB): the mall's diagram with its drawing is ~115 KB and grows."""

from __future__ import annotations

import re

from services.runner.allinone import MALL_DIAGRAM

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _deploy(designer, bpmn: str):
    page = designer.get("/console/processes/modeler").get_data(as_text=True)
    token = META_CSRF.search(page).group(1)
    return designer.post(
        "/console/processes/deploy",
        json={"bpmn": bpmn, "base_version": 1, "note": "larger"},
        headers={"X-CSRFToken": token},
    )


def test_a_diagram_over_256_kb_deploys_from_the_modeler(browser):
    designer = browser()
    designer.login("designer")
    grown = MALL_DIAGRAM.read_text(encoding="utf-8").replace(
        "</bpmn:definitions>", f"<!-- {'notes ' * 60_000} -->\n</bpmn:definitions>"
    )

    answer = _deploy(designer, grown)

    assert len(grown.encode()) > 300_000
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.json["version"] == 2


def test_a_diagram_over_4_mb_is_refused_with_a_json_error(browser):
    designer = browser()
    designer.login("designer")
    huge = "<x>" + "y" * (4 * 1024 * 1024) + "</x>"

    answer = _deploy(designer, huge)

    assert answer.status_code == 413 and answer.json["code"] == 413


def test_a_deploy_without_its_csrf_token_is_refused_in_json_the_modeler_can_show(browser):
    designer = browser()
    designer.login("designer")

    answer = designer.post("/console/processes/deploy", json={"bpmn": "<x/>", "base_version": 1})

    # in the reader's language (zh-CN by default): the page has expired, reload it
    assert answer.status_code == 400 and answer.json["code"] == 400 and "页面已过期" in answer.json["error"]


def test_a_deploy_nested_thousands_of_levels_deep_is_refused_in_json_naming_it(browser):
    designer = browser()
    designer.login("designer")
    page = designer.get("/console/processes/modeler").get_data(as_text=True)
    deep = b'{"bpmn": ' + b"[" * 2000 + b"]" * 2000 + b"}"

    answer = designer.post(
        "/console/processes/deploy",
        data=deep,
        content_type="application/json",
        headers={"X-CSRFToken": META_CSRF.search(page).group(1)},
    )

    assert answer.status_code == 400 and answer.json["code"] == 400
    assert "嵌套超过 32 层" in answer.json["error"]  # the console reads in Chinese

"""The designer's modeler: the newest version loaded, the dry run (试运行验证) and the deploy, both
answered as JSON for the page's script to draw on the diagram."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request

from services.common.bus.events import NOTIFY_PARTIES, STEP_EVENTS
from services.common.errors import InvalidInput
from services.common.identity.model import PROCESS_ROLES, Role
from services.console.auth.guard import api, login_required
from services.console.i18n import language
from services.console.pages import html_errors
from services.console.pages.bpmn_diff import refused_element
from services.console.pages.processes import versions_of, xml_of

blueprint = html_errors(Blueprint("modeler", __name__))

# As large as routing takes a deployed diagram (its POST /processes), not only an ordinary form;
# the app sets it before the CSRF check reads the body (services/console/app.py).
LARGE_BODIES = {"modeler.deploy": 4 * 1024 * 1024, "modeler.proof": 4 * 1024 * 1024}


@blueprint.get("/processes/modeler")
@login_required(Role.PROCESS_DESIGNER)
def modeler():
    """The bpmn-js modeler with the active version of the complaint process loaded (else the newest)."""
    versions = versions_of()
    base = next((v for v in versions if v.get("active") and v.get("handles_complaints")), None)
    base = base or (versions[0] if versions else None)
    # What the modeler's lint rules check against: the lists routing checks a deploy against.
    facts = {
        "queues": sorted(PROCESS_ROLES),
        "events": sorted(STEP_EVENTS),
        "parties": sorted(NOTIFY_PARTIES | PROCESS_ROLES),
    }
    return render_template("modeler.html", base=base, xml=xml_of(base) if base else "", facts=facts)


def _files(body: dict) -> dict:
    """The edited diagram with the DMN files of the version it was edited from, as routing takes a deploy."""
    client = api()
    base = next(
        (
            v
            for v in versions_of()
            if v["version"] == body.get("base_version") and v.get("handles_complaints")
        ),
        None,
    )
    dmn = {
        name: client.text(f"/routing/processes/{base['process_key']}/{base['version']}/dmn/{name}")
        for name in (base["dmn_files"] if base else [])
    }
    return {
        "bpmn": str(body.get("bpmn", "")),
        "dmn": dmn,
        "bpmn_name": "complaint.bpmn",
        "note": str(body.get("note") or "").strip() or None,
    }


def _refused(refused: InvalidInput):
    """Every problem routing named, one sentence each in the designer's language, with the element it
    names (for the page to mark). Answered 200 with
    `refused`: the page asked for a check and this is its finding (a 4xx would also be logged by the
    browser as a failed load)."""
    sentences = [sentence for messages in refused.fields.values() for sentence in messages] or [str(refused)]
    problems = [{"sentence": sentence, "element": refused_element(sentence)} for sentence in sentences]
    return jsonify({"refused": True, "problems": problems})


@blueprint.post("/processes/proof")
@login_required(Role.PROCESS_DESIGNER)
def proof():
    """The dry run: routing validates and proves the diagram without deploying it (JSON, CSRF header)."""
    files = _files(request.get_json(silent=True) or {})  # a body over the JSON limits is refused here (400)
    try:
        answer = api().post("/routing/processes/proof", files, headers={"Accept-Language": language()})
    except InvalidInput as refused:
        return _refused(refused)
    return jsonify(answer)


@blueprint.post("/processes/deploy")
@login_required(Role.PROCESS_DESIGNER)
def deploy():
    """Deploy the edited diagram (JSON, CSRF header): the new version, or every problem named."""
    files = _files(request.get_json(silent=True) or {})  # a body over the JSON limits is refused here (400)
    known = {(v["process_key"], v["version"]) for v in versions_of()}
    try:  # the problems in the designer's language
        version = api().post("/routing/processes", files, headers={"Accept-Language": language()})
    except InvalidInput as refused:
        return _refused(refused)
    # The same files as a version deployed before answer that version (active or not): nothing new.
    unchanged = (version["process_key"], version["version"]) in known
    return jsonify(
        {
            "version": version["version"],
            "unchanged": unchanged,
            "active": version.get("active", True),
            "proof": version.get("proof"),
        }
    )

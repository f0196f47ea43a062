"""Process versions for designers: list, diff of two versions, the modeler, deploy."""

from __future__ import annotations

import difflib

from flask import Blueprint, jsonify, render_template, request

from services.common.errors import InvalidInput
from services.common.identity.model import Role
from services.console.auth.guard import api, login_required
from services.console.i18n import language
from services.console.pages import html_errors
from services.console.pages.bpmn_diff import element_diff, refused_element

blueprint = html_errors(Blueprint("processes", __name__))
READERS = (Role.PROCESS_DESIGNER, Role.OPERATIONS_MANAGER, Role.ADMIN)


def _versions() -> list[dict]:
    return api().get("/routing/processes")


def _xml(version: dict) -> str:
    return api().text(f"/routing/processes/{version['process_key']}/{version['version']}/bpmn")


@blueprint.get("/processes")
@login_required(*READERS)
def versions():
    """Every deployed version, newest first."""
    return render_template("processes.html", versions=_versions())


@blueprint.get("/processes/diff")
@login_required(*READERS)
def diff():
    """What changed between two versions: elements added, removed, changed; and the XML lines."""
    found = {str(version["version"]): version for version in _versions()}
    old, new = found.get(request.args.get("old", "")), found.get(request.args.get("new", ""))
    if old is None or new is None:
        raise InvalidInput("choose two deployed versions", {"old": ["a deployed version"]}, "query")
    old_xml, new_xml = _xml(old), _xml(new)
    lines = difflib.unified_diff(old_xml.splitlines(), new_xml.splitlines(), f"v{old['version']}",
                                 f"v{new['version']}", lineterm="", n=2)  # fmt: skip
    return render_template("process_diff.html", old=old, new=new, changes=element_diff(old_xml, new_xml),
                           text_diff="\n".join(lines))  # fmt: skip


@blueprint.get("/processes/modeler")
@login_required(Role.PROCESS_DESIGNER)
def modeler():
    """The bpmn-js modeler with the newest version loaded."""
    versions = _versions()
    newest = versions[0] if versions else None
    return render_template("modeler.html", newest=newest, xml=_xml(newest) if newest else "")


# As large as routing takes a deployed diagram (its POST /processes), not only an ordinary form;
# the app sets it before the CSRF check reads the body (services/console/app.py).
LARGE_BODIES = {"processes.deploy": 4 * 1024 * 1024}


@blueprint.post("/processes/deploy")
@login_required(Role.PROCESS_DESIGNER)
def deploy():
    """Deploy the edited diagram with the DMN files of the version it was edited from (JSON, CSRF header)."""
    body = request.get_json(silent=True) or {}
    client = api()
    versions = _versions()
    base = next((v for v in versions if v["version"] == body.get("base_version")), None)
    dmn = {name: client.text(f"/routing/processes/{base['process_key']}/{base['version']}/dmn/{name}")
           for name in (base["dmn_files"] if base else [])}  # fmt: skip
    try:
        version = client.post("/routing/processes", {"bpmn": str(body.get("bpmn", "")), "dmn": dmn,
                                                     "bpmn_name": "complaint.bpmn", "note": body.get("note") or None},
                              headers={"Accept-Language": language()})  # the problems in the designer's language  # fmt: skip
    except InvalidInput as refused:
        return jsonify({"error": str(refused), "element": refused_element(str(refused))}), 400
    # The same files as a version deployed before answer that version (active or not): nothing new.
    known = {(v["process_key"], v["version"]) for v in versions}
    return jsonify(
        {
            "version": version["version"],
            "unchanged": (version["process_key"], version["version"]) in known,
            "active": version.get("active", True),
        }
    )

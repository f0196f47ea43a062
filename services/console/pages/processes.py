"""Process versions for designers: the list with the active one, activating an earlier one again
(a rollback, with a reason), and the diff of two versions (elements coloured on both diagrams)."""

from __future__ import annotations

import difflib

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import InvalidInput
from services.console.auth.guard import api, has_role, login_required
from services.console.i18n import language, translate
from services.console.pages import html_errors
from services.console.pages.access import VERSION_ACTIVATORS, VERSION_READERS
from services.console.pages.bpmn_diff import element_diff, rule_diff
from services.console.pages.diagram_names import element_names

blueprint = html_errors(Blueprint("processes", __name__))
READERS = VERSION_READERS


def versions_of() -> list[dict]:
    return api().get("/routing/processes")


def xml_of(version: dict) -> str:
    return api().text(f"/routing/processes/{version['process_key']}/{version['version']}/bpmn")


def dmn_of(version: dict, name: str) -> str | None:
    if name not in version.get("dmn_files", []):
        return None
    return api().text(f"/routing/processes/{version['process_key']}/{version['version']}/dmn/{name}")


def decisions_diff(old: dict, new: dict) -> tuple[list[dict], str]:
    """Each decision table's changed rules ({file, change, id, description, old, new}) and the tables'
    changed lines: triage is part of a version, and a rollback is decided on what differs."""
    rules, lines = [], []
    for name in sorted(set(old.get("dmn_files", [])) | set(new.get("dmn_files", []))):
        before, after = dmn_of(old, name), dmn_of(new, name)
        if before == after:
            continue
        rules += [{"file": name, **change} for change in rule_diff(before, after)]
        lines.append(_lines(before, after, f"v{old['version']}/{name}", f"v{new['version']}/{name}"))
    return rules, "\n".join(lines)


def _lines(before: str | None, after: str | None, old_name: str, new_name: str) -> str:
    """The source's changed lines, two of context around each."""
    changed = difflib.unified_diff(
        (before or "").splitlines(), (after or "").splitlines(), old_name, new_name, lineterm="", n=2
    )
    return "\n".join(changed)


@blueprint.get("/processes")
@login_required(*READERS)
def versions():
    """Every deployed version, newest first, the active one marked; who activated what, when and why."""
    found = versions_of()
    keys = sorted({version["process_key"] for version in found})
    activations = {key: api().get(f"/routing/processes/{key}/activations") for key in keys}
    return render_template(
        "processes.html", versions=found, activations=activations, can_activate=has_role(*VERSION_ACTIVATORS)
    )


@blueprint.post("/processes/<string:process_key>/<int:version>/activate")
@login_required(*VERSION_ACTIVATORS)
def activate(process_key, version):
    """Make an earlier version the one new complaints start again (routing keeps who, when and why)."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(translate("processes.reason_required"))
        return redirect(url_for("processes.versions"))
    api().post(
        f"/routing/processes/{process_key}/{version}/activate",
        {"reason": reason},
        headers={"Accept-Language": language()},
    )
    flash(translate("processes.activated", version=version))
    return redirect(url_for("processes.versions"))


@blueprint.get("/processes/diff")
@login_required(*READERS)
def diff():
    """What changed between two versions: both diagrams with the changes coloured, the elements listed,
    and the source's lines."""
    found = {str(version["version"]): version for version in versions_of()}
    old, new = found.get(request.args.get("old", "")), found.get(request.args.get("new", ""))
    if old is None or new is None:
        raise InvalidInput("choose two deployed versions", {"old": ["a deployed version"]}, "query")
    old_xml, new_xml = xml_of(old), xml_of(new)
    lines = _lines(old_xml, new_xml, f"v{old['version']}", f"v{new['version']}")
    names = {**element_names(old_xml), **element_names(new_xml)}
    rules, rule_lines = decisions_diff(old, new)
    return render_template(
        "process_diff.html",
        old=old,
        new=new,
        changes=element_diff(old_xml, new_xml),
        text_diff="\n".join(part for part in (lines, rule_lines) if part),
        rules=rules,
        old_xml=old_xml,
        new_xml=new_xml,
        names=names,
    )

"""What operators repair with: the cases stopped by incidents (the error, the element lit, retry,
move to a fixed version then retry), and moving every unfinished case of one version to another."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from services.common.errors import Conflict, InvalidInput
from services.console.auth.guard import api, has_role, login_required
from services.console.i18n import named, translate
from services.console.pages import html_errors
from services.console.pages.access import CASE_MOVERS, INCIDENT_REPAIRERS, VERSION_READERS
from services.console.pages.diagram_names import element_names

blueprint = html_errors(Blueprint("repairs", __name__))


def _complaint_versions() -> list[dict]:
    """The complaint process's versions, newest first (for the readers of versions; else none)."""
    if not has_role(*VERSION_READERS):
        return []
    return [v for v in api().get("/routing/processes") if v.get("handles_complaints")]


@blueprint.get("/incidents")
@login_required(*INCIDENT_REPAIRERS)
def incidents():
    """Every case of the mall stopped by an incident, oldest first; the chosen one's diagram with its
    element lit, and what may be done: retry, or move it to a fixed version and retry."""
    client = api()
    found = client.get("/routing/incidents")
    chosen = next((i for i in found if i["case_id"] == request.args.get("case")), found[0] if found else None)
    diagram = client.text(f"/routing/cases/{chosen['case_id']}/diagram") if chosen else None
    case = client.get(f"/routing/cases/{chosen['case_id']}") if chosen else None
    return render_template(
        "incidents.html",
        incidents=found,
        chosen=chosen,
        diagram=diagram,
        case=case,
        names=_names_by_version(found),
        versions=_complaint_versions(),
        can_move=has_role(*CASE_MOVERS),
    )


def _names_by_version(incidents: list[dict]) -> dict:
    """What each version's diagram calls its elements, read once per version from one of its cases."""
    names: dict[tuple, dict] = {}
    for incident in incidents:
        key = (incident["process_key"], incident["version"])
        if key not in names:
            names[key] = element_names(api().text(f"/routing/cases/{incident['case_id']}/diagram"))
    return names


@blueprint.post("/incidents/<uuid:case_id>/retry")
@login_required(*INCIDENT_REPAIRERS)
def retry(case_id):
    """Run the step the incident stopped again."""
    _retry(case_id)
    return redirect(url_for("repairs.incidents"))


def _retry(case_id) -> None:
    try:
        api().post(f"/routing/cases/{case_id}/retry", {"data": {}})
    except Conflict:
        flash(translate("incidents.failed_again"))
        return
    flash(translate("incidents.retried"))


@blueprint.post("/incidents/<uuid:case_id>/migrate")
@login_required(*CASE_MOVERS)
def migrate_and_retry(case_id):
    """Move the case to the chosen version (a dry run first: refused naming the elements it lacks),
    then retry the step there."""
    move = _move_body()
    if move is None:
        return redirect(url_for("repairs.incidents", case=case_id))
    client = api()
    trial = client.post(f"/routing/cases/{case_id}/migrate", {**move, "dry_run": True})
    if trial.get("missing"):
        flash(_missing_words(trial, client.text(f"/routing/cases/{case_id}/diagram")))
        return redirect(url_for("repairs.incidents", case=case_id))
    client.post(f"/routing/cases/{case_id}/migrate", {**move, "dry_run": False})
    flash(translate("incidents.moved", version=move["to_version"]))
    _retry(case_id)
    return redirect(url_for("repairs.incidents"))


def _move_body() -> dict | None:
    reason = request.form.get("reason", "").strip()
    target = request.form.get("to_version", "")
    if not reason or not target.isdigit():
        flash(translate("migration.needs"))
        return None
    return {"to_version": int(target), "reason": reason}


def _missing_words(answer: dict, diagram: str) -> str:
    names = element_names(diagram)
    missing = "、".join(
        named(names.get(m["element_id"]), "element", m["element_id"]) for m in answer["missing"]
    )
    return translate(
        "migration.refused_case", number=answer["number"], version=answer["to_version"], elements=missing
    )


@blueprint.route("/processes/migrate", methods=["GET", "POST"])
@login_required(*CASE_MOVERS)
def migration():
    """Move the unfinished cases of one version to another: a dry run counts them (and lists those that
    cannot move, with the elements the target lacks), then the move itself."""
    versions = _complaint_versions()
    result, form = None, request.form
    if request.method == "POST":
        move = _move_body()
        source = form.get("from_version", "")
        if move is not None and source.isdigit():
            key = versions[0]["process_key"] if versions else "complaint"
            dry_run = form.get("action") != "migrate"
            try:
                result = api().post(
                    f"/routing/processes/{key}/{source}/migrate", {**move, "dry_run": dry_run}
                )
            except InvalidInput:
                flash(translate("migration.unknown_version"))
    names = {
        str(v["version"]): element_names(
            api().text(f"/routing/processes/{v['process_key']}/{v['version']}/bpmn")
        )
        for v in versions
        if result and str(v["version"]) == form.get("from_version")
    }
    return render_template(
        "migration.html",
        versions=versions,
        result=result,
        form=form,
        names=names.get(form.get("from_version", ""), {}),
    )

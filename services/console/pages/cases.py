"""Complaints and cases: the list, a case's facts, timeline and diagram, the printable form."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from services.common.errors import NotFound
from services.common.identity.model import PROCESS_ROLES
from services.console.auth.guard import api, console, has_role, login_required
from services.console.pages import html_errors
from services.console.pages.access import DELIVERY_LOG_READERS

blueprint = html_errors(Blueprint("cases", __name__))

# Timeline kinds that are a task's life: the element they name is a task of the diagram.
TASK_KINDS = (
    "task_created",
    "task_claimed",
    "task_assigned",
    "task_unclaimed",
    "task_completed",
    "task_cancelled",
)


@blueprint.get("/complaints")
@login_required(*PROCESS_ROLES)
def complaints():
    """Complaints newest first (a floor supervisor's floors, a manager's department)."""
    page = api().get("/intake/complaints", limit=50, cursor=request.args.get("cursor"))
    return render_template("complaints.html", page=page)


@blueprint.get("/find")
@login_required(*PROCESS_ROLES)
def find():
    """Open a case by its receipt number."""
    number = request.args.get("number", "").strip().upper()
    if not number:
        return redirect(url_for("cases.complaints"))
    complaint = api().get(f"/intake/complaints/by-number/{number}")
    return redirect(url_for("cases.case", case_id=complaint["id"]))


def _case_parts(case_id) -> dict:
    client = api()
    complaint = client.get(f"/intake/complaints/{case_id}")
    try:
        case = client.get(f"/routing/cases/{case_id}")
    except NotFound:  # recorded, but routing has not started its case yet
        return {"complaint": complaint, "case": None, "timeline": [], "diagram": None}
    return {
        "complaint": complaint,
        "case": case,
        "timeline": client.get(f"/routing/cases/{case_id}/timeline"),
        "diagram": client.text(f"/routing/cases/{case_id}/diagram"),
    }


@blueprint.get("/cases/<uuid:case_id>")
@login_required(*PROCESS_ROLES)
def case(case_id):
    """The complaint's facts, the case's timeline, the diagram with its path lit, and what was sent."""
    return render_template("case.html", deliveries=_delivery_log(case_id), **_case_parts(case_id))


def _delivery_log(case_id) -> list[dict] | None:
    """Notify's log of every message about the complaint, for the roles notify shows it to."""
    if not has_role(*DELIVERY_LOG_READERS):
        return None
    try:
        return api().get(f"/notify/complaints/{case_id}/deliveries")["requests"]
    except NotFound:  # notify has not heard of the complaint yet
        return []


@blueprint.get("/cases/<uuid:case_id>/print")
@login_required(*PROCESS_ROLES)
def print_form(case_id):
    """客户投诉处理单: the complaint record and its timeline, laid out for paper."""
    parts = _case_parts(case_id)
    parts.pop("diagram")
    return render_template("case_print.html", printed_at=console().clock.now(), **parts)

"""Complaints and cases: the list, a case's facts, timeline and diagram, the printable form."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from services.common.errors import Forbidden, InvalidInput, NotFound
from services.common.identity.model import PROCESS_ROLES
from services.common.receipts import receipt_number
from services.console.auth.guard import api, has_role, login_required
from services.console.i18n import translate
from services.console.pages import html_errors
from services.console.pages.access import (
    CASE_READERS,
    DELIVERY_LOG_READERS,
    OUTSIDE_ROUTE_RECORDERS,
    TIMER_OPERATORS,
)
from services.console.pages.attachments import attachments_of
from services.console.pages.case_form import form_pdf, paper_form
from services.console.pages.desk import CATEGORIES, CHANNELS  # the list filters by what the desk records
from services.console.pages.diagram_names import element_names
from services.console.pages.related import case_extras

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


# The list's filters as the URL carries them (so a filtered list can be bookmarked), as intake names them.
FILTERS = ("q", "category", "channel", "floor", "received_from", "received_to", "overdue", "phone", "stage")
# Where a case is, as the customers' status page tells it; named by the vocabulary's statuses.
STAGES = ("received", "handling", "replied", "closed")


@blueprint.get("/complaints")
@login_required(*PROCESS_ROLES)
def complaints():
    """Complaints newest first (a floor supervisor's floors, a manager's department), filtered by the
    URL's filters; with words, a number or a phone in `q`, the best matches first."""
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    chosen["overdue"] = "true" if chosen["overdue"] in ("true", "on", "1") else ""
    given = {name: value for name, value in chosen.items() if value and name != "q"}
    client = api()
    try:
        if chosen["q"]:
            page = {
                **client.get("/intake/complaints/search", q=chosen["q"], limit=50, **given),
                "next_cursor": None,
            }
        else:
            page = client.get("/intake/complaints", limit=50, cursor=request.args.get("cursor"), **given)
    except InvalidInput as refused:
        page, problem = {"items": [], "next_cursor": None}, refused
    else:
        problem = None
    return render_template(
        "complaints.html",
        page=page,
        chosen=chosen,
        categories=CATEGORIES,
        channels=CHANNELS,
        stages=STAGES,
        floors=client.get("/intake/reference/floors"),
        problem=problem,
        given=given,
    )


@blueprint.get("/find")
@login_required(*PROCESS_ROLES)
def find():
    """The top bar's search box: a receipt number opens its case (404 when there is none the caller may
    see); anything else lists the matches."""
    q = (request.args.get("q") or request.args.get("number") or "").strip()
    if not q:
        return redirect(url_for("cases.complaints"))
    number = receipt_number(q)  # however it was typed: 20261208-0002 is TS-20261208-0002
    if number is not None:  # outside the caller's scope it is not found, as the case page itself answers
        complaint = api().get(f"/intake/complaints/by-number/{number}")
        return redirect(url_for("cases.case", case_id=complaint["id"]))
    return redirect(url_for("cases.complaints", q=q))


def _case_parts(case_id) -> dict:
    client = api()
    try:
        complaint = client.get(f"/intake/complaints/{case_id}")
    except (
        Forbidden
    ):  # a designer or administrator: intake keeps the complaint from them, routing not the case
        complaint = None
    try:
        case = client.get(f"/routing/cases/{case_id}")
    except NotFound:  # recorded, but routing has not started its case yet
        if complaint is None:
            raise
        return {
            "complaint": complaint,
            "case": None,
            "timeline": _customer_emails(complaint),
            "diagram": None,
        }
    complaint = complaint or {
        "id": str(case_id),
        "number": case["number"],
        "status": case["status"],
        "hidden": True,
    }
    return {
        "complaint": complaint,
        "case": case,
        "timeline": _with_emails(client.get(f"/routing/cases/{case_id}/timeline"), complaint),
        "diagram": client.text(f"/routing/cases/{case_id}/diagram"),
    }


def _customer_emails(complaint: dict) -> list[dict]:
    """The customer's answers by e-mail in the complaint's thread, as timeline entries."""
    if complaint.get("hidden") or complaint.get("channel") != "email":
        return []
    thread = api().get(f"/intake/email-drafts/of-complaint/{complaint['id']}")
    return [
        {
            "at": item["received_at"],
            "actor": item.get("sender_name") or item.get("sender_address") or "",
            "role": None,
            "kind": "customer_email",
            "element_id": None,
            "detail": {"subject": item["subject"], "body": item["body"]},
        }
        for item in thread
        if item["kind"] == "answer"
    ]


def _with_emails(timeline: list[dict], complaint: dict) -> list[dict]:
    """Routing's timeline with the customer's e-mails in their place by time."""
    return _merged(timeline, _customer_emails(complaint))


def _merged(timeline: list[dict], entries: list[dict]) -> list[dict]:
    """The timeline with entries kept elsewhere (e-mails, files) in their place by time."""
    if not entries:
        return timeline
    return sorted(timeline + entries, key=lambda entry: datetime.fromisoformat(entry["at"]))


# What a close records (PROCESS.md, closing): a completion that decided any of these closed the case.
CLOSING_FIELDS = ("cost", "responsible_party", "root_cause")


def _closing(timeline: list[dict]) -> dict | None:
    """The completion that closed the case, as its timeline entry keeps it; None while none did."""
    return next(
        (
            entry
            for entry in reversed(timeline)
            if entry["kind"] == "task_completed"
            and any(name in ((entry.get("detail") or {}).get("data") or {}) for name in CLOSING_FIELDS)
        ),
        None,
    )


def _files_added(attachments: list[dict] | None) -> list[dict]:
    """Files staff attached (at the desk, on a task, on the case page), one timeline entry for each
    upload: who, when, the files' names as the reader may see them. The customer's own files came
    with the complaint and are under 附件."""
    uploads: dict[tuple, list[str]] = {}
    for item in attachments or ():
        if item["source"] != "web":
            uploads.setdefault((item["uploaded_at"], item["uploaded_by"]), []).append(item["file_name"])
    separator = translate("common.list_separator")
    return [
        {
            "at": at,
            "actor": by,
            "role": None,
            "kind": "attachment_added",
            "element_id": None,
            "detail": {"files": separator.join(names)},
        }
        for (at, by), names in uploads.items()
    ]


@blueprint.get("/cases/<uuid:case_id>")
@login_required(*CASE_READERS)
def case(case_id):
    """The complaint's facts, the case's timeline, the diagram with its path lit, its pending timers
    (fired or moved here by those allowed), and what was sent."""
    parts = _case_parts(case_id)
    timers = api().get(f"/routing/cases/{case_id}/timers") if parts["case"] else []
    names = element_names(parts["diagram"]) if parts["diagram"] else {}
    deliveries = _delivery_log(case_id)
    attachments = attachments_of(parts["complaint"])
    timeline = _acknowledgement_as_delivered(parts["timeline"], deliveries)
    parts["timeline"] = _merged(timeline, _files_added(attachments))
    return render_template(
        "case.html",
        closing=_closing(parts["timeline"]),
        deliveries=deliveries,
        timers=timers,
        names=names,
        attachments=attachments,
        can_move_timers=has_role(*TIMER_OPERATORS),
        # the form only while the case waits for it (its fork's branch), never after it was taken
        outside_route=bool(parts.get("case"))
        and "outside_route" in (parts["case"].get("current_elements") or [])
        and has_role(*OUTSIDE_ROUTE_RECORDERS),
        outside_bodies=OUTSIDE_BODIES,
        outside_key=str(uuid.uuid4()),
        **case_extras(parts["complaint"]),
        **parts,
    )


# The outside routes a case can take (PROCESS.md step 8), as the message `outside_route` names them.
OUTSIDE_BODIES = ("consumer_association", "government_office")


@blueprint.post("/cases/<uuid:case_id>/outside-route")
@login_required(*OUTSIDE_ROUTE_RECORDERS)
def record_outside_route(case_id):
    """The case went to the consumer association's mediation or to a government office: routing's
    diagram waits for the message `outside_route`, then the desk tracks it until it concludes."""
    body, reference = request.form.get("body", ""), request.form.get("reference", "").strip()[:100]
    if body not in OUTSIDE_BODIES:
        flash(translate("outside.choose_body"))
        return redirect(url_for("cases.case", case_id=case_id) + "#outside-route")
    message = {
        "name": "outside_route",
        "data": {"body": body, "reference": reference} if reference else {"body": body},
        # one form, sent twice (a double click, a retry), is one message
        "idempotency_key": request.form.get("idempotency_key", "")[:200] or str(uuid.uuid4()),
    }
    api().post(f"/routing/cases/{case_id}/messages", message)
    flash(translate("outside.recorded"))
    return redirect(url_for("cases.case", case_id=case_id))


@blueprint.post("/cases/<uuid:case_id>/timers/<uuid:timer_id>/fire")
@login_required(*TIMER_OPERATORS)
def fire_timer(case_id, timer_id):
    """Fire a pending timer now (reason required), as the scheduler would when it falls due."""
    reason = request.form.get("reason", "").strip()
    if _reason_given(reason):
        api().post(f"/routing/cases/{case_id}/timers/{timer_id}/fire", {"reason": reason})
        flash(translate("timer.fired"))
    return redirect(url_for("cases.case", case_id=case_id) + "#timers")


@blueprint.post("/cases/<uuid:case_id>/timers/<uuid:timer_id>/due")
@login_required(*TIMER_OPERATORS)
def move_timer(case_id, timer_id):
    """Set when a pending timer falls due (the mall's local time; reason required)."""
    reason, due_at = request.form.get("reason", "").strip(), request.form.get("due_at", "").strip()
    if _reason_given(reason):
        try:
            answer = api().patch(
                f"/routing/cases/{case_id}/timers/{timer_id}", {"due_at": due_at, "reason": reason}
            )
        except InvalidInput:
            flash(translate("timer.bad_due"))
        else:
            flash(translate("timer.fired" if answer.get("fired") else "timer.moved"))
    return redirect(url_for("cases.case", case_id=case_id) + "#timers")


def _reason_given(reason: str) -> bool:
    if not reason:
        flash(translate("timer.reason_required"))
    return bool(reason)


ACKNOWLEDGED = "complaint.acknowledged"


def _acknowledgement_as_delivered(timeline: list[dict], deliveries: list[dict] | None) -> list[dict]:
    """Routing's "received" step says only that an acknowledgement was asked for; whether the customer
    was told is notify's to say. Where the reader sees its log, the step says so: told once the
    acknowledgement was sent, never told when there was no way to reach the customer (an anonymous
    note), otherwise (still waiting, or no log to read) no more than that the complaint was received."""
    asked = [item for item in deliveries or () if item.get("kind") == "acknowledgement"]
    sent = [each for item in asked for each in item.get("deliveries") or ()]
    if any(each.get("state") == "sent" for each in sent):
        kind = ACKNOWLEDGED + ".told"
    elif sent and all(each.get("channel") == "none" for each in sent):
        kind = ACKNOWLEDGED + ".untold"
    else:
        return timeline
    return [{**entry, "kind": kind} if entry.get("kind") == ACKNOWLEDGED else entry for entry in timeline]


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
    """客户投诉处理单: the complaint record, its timeline and the signature lines, laid out as the paper form."""
    parts = _case_parts(case_id)
    form = paper_form(parts["complaint"], parts["case"], parts["timeline"])
    return render_template("case_print.html", form=form, case_id=case_id)


@blueprint.get("/cases/<uuid:case_id>/print.pdf")
@login_required(*PROCESS_ROLES)
def print_form_pdf(case_id):
    """The same form as an A4 PDF, the Chinese font embedded, to print or file anywhere."""
    parts = _case_parts(case_id)
    form = paper_form(parts["complaint"], parts["case"], parts["timeline"])
    response = Response(form_pdf(form), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{form.number}.pdf"'
    return response

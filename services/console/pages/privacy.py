"""Customers' personal information requests (PIPL), for admins: a copy of everything the system holds
of a customer, as one file, or its erasure; and the audit of both.

The console gathers the copy: intake finds the customer's complaints by phone or e-mail and hands out
its part (and audits the request), routing and notify each answer theirs for those complaints, all
called as the logged-in admin. An erasure is intake's alone to start (docs/security.md).
"""

from __future__ import annotations

import json

from flask import Blueprint, redirect, render_template, request, url_for

from services.common.errors import InvalidInput
from services.common.identity.model import Role
from services.console.adapters.services import Download, ServiceClient
from services.console.auth.guard import api, console, login_required
from services.console.pages import html_errors
from services.console.pages.files import passed_on

blueprint = html_errors(Blueprint("privacy", __name__, url_prefix="/admin/privacy"))
FORMAT = "mall-complaints/personal-data/1"
PAGE = 20
BATCH = 1000  # the most complaints routing and notify are asked about at once (their JSON limit)
# The fields a refused request names, each with what the page says of it.
FIELD_MESSAGES = {
    "contact": "privacy.bad_contact",
    "reason": "privacy.bad_reason",
    "confirm": "privacy.confirm_needed",
}


@blueprint.get("")
@login_required(Role.ADMIN)
def requests():
    """The two forms, and every request made so far, newest first."""
    return _page()


@blueprint.post("/export")
@login_required(Role.ADMIN)
def export():
    """Everything held of the customer as one JSON file to hand over (audited by intake)."""
    try:
        document = gather(api(), *_asked())
    except InvalidInput as refused:
        return _page(400, refused.fields)
    name = f"personal-data-{document['request_id'][:8]}.json"
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return passed_on(Download(body, "application/json; charset=utf-8", f'attachment; filename="{name}"'))


@blueprint.post("/erase")
@login_required(Role.ADMIN)
def erase():
    """Erase the customer's personal data everywhere, now (intake starts it, the others follow)."""
    if request.form.get("confirm") != "yes":
        return _page(400, {"confirm": ["not confirmed"]}, erase=request.form)
    try:
        contact, reason = _asked()
        done = api().post("/intake/privacy/erasures", {"contact": contact, "reason": reason})
    except InvalidInput as refused:
        return _page(400, refused.fields, erase=request.form)
    return redirect(url_for("privacy.requests", done=done["id"]))


def gather(client: ServiceClient, contact: str, reason: str) -> dict:
    """The customer's copy: per complaint, intake's record and corrections, routing's case and
    timeline, notify's messages to the customer; a part a service does not hold is null."""
    found = client.post("/intake/privacy/exports", {"contact": contact, "reason": reason})
    asked = found["request"]
    ids = [item["id"] for item in found["complaints"]]
    routing = _parts(client, "/routing/privacy/exports", ids, asked["id"], "cases")
    notify = _parts(client, "/notify/privacy/exports", ids, asked["id"], "complaints")
    complaints = [
        {
            "id": item["id"],
            "number": item["number"],
            "intake": {"record": item["record"], "history": item["history"]},
            "routing": routing.get(item["id"]),
            "notify": notify.get(item["id"]),
        }
        for item in found["complaints"]
    ]
    settings = console().settings
    return {
        "format": FORMAT,
        "mall": settings.mall_name,
        "request_id": asked["id"],
        "generated_at": asked["requested_at"],
        "customer": {"contact": contact.strip()},
        "complaints": complaints,
    }


def _parts(client: ServiceClient, path: str, ids: list[str], request_id: str, key: str) -> dict[str, dict]:
    """A service's parts by complaint id, asked for in batches it accepts."""
    parts: dict[str, dict] = {}
    for start in range(0, len(ids), BATCH):
        answer = client.post(path, {"complaint_ids": ids[start : start + BATCH], "request_id": request_id})
        parts.update({part["complaint_id"]: part for part in answer[key]})
    return parts


def _asked() -> tuple[str, str]:
    return request.form.get("contact", "").strip(), request.form.get("reason", "").strip()


def _page(status: int = 200, errors: dict | None = None, erase: dict | None = None):
    """The page; a refused form comes back filled in, each field at fault said in the page's language."""
    listed = api().get("/intake/privacy/requests", limit=PAGE, cursor=request.args.get("cursor"))
    done = next((item for item in listed["items"] if item["id"] == request.args.get("done")), None)
    faults = {name: FIELD_MESSAGES.get(name, "privacy.bad_request") for name in errors or {}}
    values = erase if erase is not None else request.form
    return render_template(
        "privacy.html",
        requests=listed["items"],
        next_cursor=listed["next_cursor"],
        done=done,
        errors=faults,
        values=values,
        form=request.endpoint,
    ), status

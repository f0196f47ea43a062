"""A complaint's attachments in the console: sent with the desk's form, from the case page and
with a task's completion; their thumbnails and files passed on from intake as the user may see them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from services.common.errors import InvalidInput
from services.common.identity.model import PROCESS_ROLES
from services.console import i18n
from services.console.adapters.services import ServiceClient
from services.console.auth.guard import api, console, login_required
from services.console.pages import html_errors
from services.console.pages.files import passed_on

blueprint = html_errors(Blueprint("attachments", __name__))

FIELD = "attachments"  # the file input's name on every console form that takes files


def chosen_files() -> list[tuple[str, bytes, str]]:
    """The files the form's input holds (an empty input sends one part with no name: none chosen)."""
    return [
        (item.filename, item.read(), item.mimetype or "application/octet-stream")
        for item in request.files.getlist(FIELD)
        if item.filename
    ]


def send_files(client: ServiceClient, complaint_id: str, task_id: str | None = None) -> str | None:
    """Attach the chosen files to the complaint; intake's reason (naming the file) if it refused them."""
    files = chosen_files()
    if not files:
        return None
    try:
        client.upload(
            f"/intake/complaints/{complaint_id}/attachments",
            files,
            {"task_id": task_id} if task_id else None,
            language=i18n.language(),
        )
    except InvalidInput as refused:
        return "；".join(message for messages in refused.fields.values() for message in messages) or str(
            refused
        )
    return None


def body_limits() -> dict[str, int]:
    """The console's forms that carry files may be as large as intake takes (several files)."""
    limit = 4 * console().settings.attachment_max_bytes + 1024 * 1024
    return dict.fromkeys(("desk.record_complaint", "attachments.upload", "queue.complete"), limit)


def attachments_of(complaint: dict | None) -> list[dict] | None:
    """The complaint's attachments, or None when the user may not read the complaint."""
    if not complaint or complaint.get("hidden"):
        return None
    return api().get(f"/intake/complaints/{complaint['id']}/attachments")


@blueprint.post("/cases/<uuid:case_id>/attachments")
@login_required(*PROCESS_ROLES)
def upload(case_id):
    """Add files to the complaint from its case page."""
    refused = send_files(api(), str(case_id))
    flash(refused or ("attachments.added" if chosen_files() or request.files else "attachments.none"))
    return redirect(url_for("cases.case", case_id=case_id) + "#attachments")


@blueprint.get("/cases/<uuid:case_id>/attachments/<uuid:attachment_id>")
@login_required(*PROCESS_ROLES)
def download(case_id, attachment_id):
    """The file, as intake shows it to this user."""
    return passed_on(api().download(f"/intake/complaints/{case_id}/attachments/{attachment_id}"))


@blueprint.get("/cases/<uuid:case_id>/attachments/<uuid:attachment_id>/thumbnail")
@login_required(*PROCESS_ROLES)
def thumbnail(case_id, attachment_id):
    """A photo's thumbnail."""
    return passed_on(api().download(f"/intake/complaints/{case_id}/attachments/{attachment_id}/thumbnail"))

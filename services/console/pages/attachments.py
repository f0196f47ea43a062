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
    """The files the form's input holds (an empty input sends one part with no name: none chosen);
    read from their start, as often as the request asks (checked first, then sent)."""
    return [(item.filename, _content(item), item.mimetype or "application/octet-stream") for item in _parts()]


def chosen_names() -> list[str]:
    """The chosen files' names, their content left unread."""
    return [item.filename for item in _parts()]


def _parts() -> list:
    return [item for item in request.files.getlist(FIELD) if item.filename]


def _content(item) -> bytes:
    item.stream.seek(0)
    return item.read()


def check_files(client: ServiceClient) -> str | None:
    """Intake's reason (naming the file) if it would refuse the chosen files, keeping none: asked
    before a complaint is recorded, so the desk learns of a refused file while the customer is there."""
    return _refusal(client, "/intake/complaints/attachments/check", None)


def send_files(client: ServiceClient, complaint_id: str, task_id: str | None = None) -> str | None:
    """Attach the chosen files to the complaint; intake's reason (naming the file) if it refused them."""
    return _refusal(
        client, f"/intake/complaints/{complaint_id}/attachments", {"task_id": task_id} if task_id else None
    )


def _refusal(client: ServiceClient, path: str, form: dict | None) -> str | None:
    files = chosen_files()
    if not files:
        return None
    try:
        client.upload(path, files, form, language=i18n.language())
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
    flash(refused or ("attachments.added" if _parts() or request.files else "attachments.none"))
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

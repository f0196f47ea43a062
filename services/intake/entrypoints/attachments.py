"""A complaint's attachments: staff upload, list and open them; the web form's customer uploads
with the token its receipt carries.

Who may see the complaint (role and scope, as its reads) may see and add its files; a viewer who
sees the customer masked sees the file names scrubbed of the customer's details.
"""

from __future__ import annotations

import functools
import io
import uuid

from flask import current_app, request, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import EXCLUDE, Schema, fields

from services.common.errors import InvalidInput, NotFound
from services.common.identity.holders import sees_customer
from services.common.scrubber import customer_masks, scrub
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.bodies import allow_larger_body
from services.intake.adapters.holders import open_holders
from services.intake.adapters.repository import former_customers
from services.intake.domain.attachments import Attachment, Source, refusal
from services.intake.domain.commands import AttachFiles, CheckFiles
from services.intake.entrypoints.access import DESK, PUBLIC_ACTOR, READ_ROLES, may_read
from services.intake.entrypoints.recording import bus

attachments = Blueprint(
    "attachments",
    __name__,
    url_prefix="/complaints",
    description="Photos, PDFs and recordings kept with a complaint (附件).",
)

UPLOAD_SALT = "intake.attachments.upload"
UPLOAD_TOKEN_AGE = 2 * 3600  # seconds the web form's receipt lets its customer add files
BINARY = {"type": "string", "format": "binary"}


class FilesIn(Schema):
    """A multipart body: the files, and the form's text fields (read from the form, documented here)."""

    class Meta:
        unknown = EXCLUDE

    file = fields.List(fields.Raw(metadata=BINARY), metadata={"description": "one or more files"})


class StaffUploadIn(FilesIn):
    task_id = fields.String(
        metadata={"description": "the task (its id) being worked when attaching", "format": "uuid"}
    )


class PublicUploadIn(FilesIn):
    upload_token = fields.String(metadata={"description": "from the web form's receipt (required)"})


class AttachmentOut(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "image, pdf or audio"})
    media_type = fields.String()
    size_bytes = fields.Integer()
    file_name = fields.String(metadata={"description": "scrubbed of the customer's details when masked"})
    source = fields.String(metadata={"description": "staff, web or task"})
    task_id = fields.String(allow_none=True)
    uploaded_by = fields.String()
    uploaded_at = fields.AwareDateTime()
    has_thumbnail = fields.Boolean()


class PublicUploadOut(Schema):
    count = fields.Integer()


class CheckedOut(Schema):
    count = fields.Integer(metadata={"description": "how many files would be kept"})


def upload_token(complaint_id: str) -> str:
    """What the web form's receipt carries, to add files to the complaint it recorded (two hours)."""
    return _serializer().dumps(complaint_id)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.extensions["mall.settings"].auth_secret, salt=UPLOAD_SALT)


def _language() -> str:
    """zh-CN when the caller prefers Chinese (the console and the web form do), else English."""
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return "zh-CN" if best and best.startswith("zh") else "en"


def _files(args: dict) -> tuple[tuple[str, bytes], ...]:
    return tuple(
        (item.filename or "", item.read()) for item in args.get("file") or () if hasattr(item, "read")
    )


def _max_body() -> int:
    return 4 * current_app.extensions["mall.settings"].attachment_max_bytes + 1024 * 1024


def limited(view):
    """The request may carry several files of up to the limit each (the app's own limit is 256 KB)."""

    @functools.wraps(view)
    def with_larger_body(*args, **kwargs):
        allow_larger_body(_max_body())
        return view(*args, **kwargs)

    return with_larger_body


def _task_id(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise InvalidInput("task_id is not a task's id", {"task_id": ["not a UUID"]}, "files") from exc


def _visible_complaint(uow, complaint_id: str):
    """The complaint, and the masks of its customer's details (those its corrections replaced too)
    when the caller sees them masked, else None (404 outside the caller's scope). A department a
    notice asked to act reads and adds files too: the photo of the repair it was asked for."""
    identity = current_identity()
    complaint = uow.complaints.get(identity.mall_id, complaint_id)
    if not may_read(uow.conn, identity, complaint):
        raise NotFound(f"no complaint {complaint_id}")
    holders = open_holders(uow.conn, [complaint.id])[complaint.id]
    if sees_customer(identity, holders):
        return complaint, None
    former = former_customers(uow.conn, [complaint.id])[complaint.id]
    return complaint, customer_masks(complaint.customer.as_dict(), *former)


def present(attachment: Attachment, known: dict[str, str] | None) -> dict:
    """The attachment as a caller sees it; `known` (the customer's masks) scrubs the file name."""
    name = scrub(attachment.file_name, known) if known is not None else attachment.file_name
    return {**attachment.__dict__, "file_name": name, "has_thumbnail": attachment.thumbnail_key is not None}


@attachments.route("/<uuid:complaint_id>/attachments", methods=["POST"])
@require_roles(*READ_ROLES)
@limited
@attachments.arguments(StaffUploadIn(), location="files")
@attachments.response(201, AttachmentOut(many=True))
@attachments.alt_response(404, response="NOT_FOUND")
def post_attachments(files, complaint_id):
    """Attach files (field `file`, repeated): JPEG, PNG or HEIC photos, PDFs, recordings, each up to
    ATTACHMENT_MAX_MB. The kind is read from the content, never the name; a photo is kept without
    its metadata (GPS position and the like), with a thumbnail. One refused file keeps them all out."""
    identity = current_identity()
    with current_app.extensions["intake.uow"]() as uow:
        complaint, known = _visible_complaint(uow, str(complaint_id))
    task_id = _task_id(request.form.get("task_id"))
    command = AttachFiles(
        complaint_id=complaint.id,
        files=_files(files),
        source=Source.TASK if task_id else Source.STAFF,
        actor_id=identity.subject,
        actor_role=sorted(identity.roles)[0],
        language=_language(),
        task_id=task_id,
    )
    return [present(item, known) for item in bus().handle(command)], 201


@attachments.route("/attachments/check", methods=["POST"])
@require_roles(*DESK)
@limited
@attachments.arguments(FilesIn(), location="files")
@attachments.response(200, CheckedOut)
def check_attachments(files):
    """Judge files (field `file`, repeated) as an upload would, keeping none: the desk's form asks
    before recording a complaint, so a refused file (named in the 400) stops the complaint."""
    return check_chosen(files), 200


def check_chosen(files: dict) -> dict:
    """The files' count, or the refusal naming the first refused one (the desk's and the web form's)."""
    return {"count": bus().handle(CheckFiles(files=_files(files), language=_language()))}


@attachments.route("/<uuid:complaint_id>/attachments", methods=["GET"])
@require_roles(*READ_ROLES)
@attachments.response(200, AttachmentOut(many=True))
@attachments.alt_response(404, response="NOT_FOUND")
def list_attachments(complaint_id):
    """The complaint's attachments, oldest first."""
    with current_app.extensions["intake.uow"]() as uow:
        complaint, known = _visible_complaint(uow, str(complaint_id))
        found = uow.attachments.of_complaint(complaint.id)
    return [present(item, known) for item in found]


def _one(complaint_id, attachment_id) -> tuple[Attachment, dict[str, str] | None, object]:
    with current_app.extensions["intake.uow"]() as uow:
        complaint, known = _visible_complaint(uow, str(complaint_id))
        attachment = uow.attachments.get(complaint.id, str(attachment_id))
        if attachment is None:
            raise NotFound(f"no attachment {attachment_id}")
        return attachment, known, uow.objects


def _file_response(data: bytes, media_type: str, name: str):
    response = send_file(io.BytesIO(data), mimetype=media_type, download_name=name, as_attachment=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"  # personal data stays off shared caches
    return response


@attachments.route("/<uuid:complaint_id>/attachments/<uuid:attachment_id>", methods=["GET"])
@require_roles(*READ_ROLES)
@attachments.response(200, {"format": "binary", "type": "string"}, content_type="application/octet-stream")
@attachments.alt_response(404, response="NOT_FOUND")
def get_attachment(complaint_id, attachment_id):
    """The file as kept (a photo without its metadata), with its media type and (scrubbed) name."""
    attachment, known, objects = _one(complaint_id, attachment_id)
    name = scrub(attachment.file_name, known) if known is not None else attachment.file_name
    return _file_response(objects.get(attachment.object_key), attachment.media_type, name)


@attachments.route("/<uuid:complaint_id>/attachments/<uuid:attachment_id>/thumbnail", methods=["GET"])
@require_roles(*READ_ROLES)
@attachments.response(200, {"format": "binary", "type": "string"}, content_type="image/jpeg")
@attachments.alt_response(404, response="NOT_FOUND")
def get_thumbnail(complaint_id, attachment_id):
    """A photo's thumbnail (JPEG, at most 320 pixels a side); 404 for a PDF or a recording."""
    attachment, _, objects = _one(complaint_id, attachment_id)
    if attachment.thumbnail_key is None:
        raise NotFound(f"attachment {attachment_id} has no thumbnail")
    return _file_response(objects.get(attachment.thumbnail_key), "image/jpeg", "thumbnail.jpg")


def attach_public(files: dict) -> dict:
    """The web form's files for the complaint whose receipt carried `upload_token`."""
    language = _language()
    try:
        complaint_id = _serializer().loads(request.form.get("upload_token", ""), max_age=UPLOAD_TOKEN_AGE)
    except BadSignature as exc:
        refused = refusal("bad_token", language)
        raise InvalidInput(refused, {"upload_token": [refused]}, "files") from exc
    command = AttachFiles(
        complaint_id=complaint_id,
        files=_files(files),
        source=Source.WEB,
        actor_id=PUBLIC_ACTOR,
        actor_role=None,
        language=language,
    )
    return {"count": len(bus().handle(command))}

"""Attaching files to a complaint: every file checked before any is kept, then the objects and
their rows written together (the objects deleted again if the rows cannot be)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from services.common.errors import InvalidInput, NotFound, TooLarge
from services.intake.adapters.files import Prepared, Unreadable, media_type_of, prepare
from services.intake.domain.attachments import Attachment, Source, clean_name, refusal
from services.intake.domain.commands import AttachFiles, CheckFiles
from services.intake.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from services.intake.service_layer.handlers import Context

MAX_FILES = 10  # per request
FIELD = "file"


def attach_files(command: AttachFiles, uow: UnitOfWork, context: Context) -> list[Attachment]:
    checked = _checked_all(command, context.max_attachment_bytes)
    kept: list[Attachment] = []
    try:
        with uow:
            if uow.complaints.get(context.mall_id, command.complaint_id) is None:
                raise NotFound(f"no complaint {command.complaint_id}")
            for name, prepared in checked:
                kept.append(_keep(uow, command, context, name, prepared))
    except BaseException:
        if kept:  # the rows were not committed: their files go too
            uow.objects.delete([key for item in kept for key in (item.object_key, item.thumbnail_key) if key])
        raise
    return kept


def check_files(command: CheckFiles, uow: UnitOfWork, context: Context) -> int:
    """How many files would be kept; raises naming the first refused one. Nothing is written."""
    return len(_checked_all(command, context.max_attachment_bytes))


def _checked_all(command: AttachFiles | CheckFiles, max_bytes: int) -> list[tuple[str, Prepared]]:
    language = command.language
    if not command.files:
        _refuse(InvalidInput, refusal("missing", language))
    if len(command.files) > MAX_FILES:
        _refuse(InvalidInput, refusal("too_many", language, count=MAX_FILES))
    return [_checked(clean_name(name) or "file", data, max_bytes, language) for name, data in command.files]


def _checked(name: str, data: bytes, max_bytes: int, language: str) -> tuple[str, Prepared]:
    if not data:
        _refuse(InvalidInput, refusal("empty", language, name=name))
    if len(data) > max_bytes:
        _refuse(TooLarge, refusal("too_large", language, name=name, limit=_megabytes(max_bytes)))
    media_type = media_type_of(data)
    if media_type is None:
        _refuse(InvalidInput, refusal("wrong_kind", language, name=name))
    try:
        return name, prepare(data, media_type)
    except Unreadable:
        _refuse(InvalidInput, refusal("unreadable", language, name=name))
        raise  # unreachable: _refuse raises


def _refuse(kind: type[InvalidInput], message: str) -> None:
    raise kind(message, {FIELD: [message]}, "files")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _keep(
    uow: UnitOfWork, command: AttachFiles, context: Context, name: str, prepared: Prepared
) -> Attachment:
    attachment_id = str(uuid.uuid4())
    key = f"{context.mall_id}/{command.complaint_id}/{attachment_id}"
    attachment = Attachment(
        id=attachment_id,
        complaint_id=command.complaint_id,
        mall_id=context.mall_id,
        kind=prepared.kind,
        media_type=prepared.media_type,
        size_bytes=len(prepared.data),
        file_name=name,
        object_key=key,
        thumbnail_key=f"{key}.thumbnail.jpg" if prepared.thumbnail else None,
        source=Source(command.source),
        task_id=command.task_id,
        uploaded_by=command.actor_id,
        uploaded_at=context.clock.now(),
    )
    uow.objects.put(key, prepared.data, prepared.media_type)
    if prepared.thumbnail:
        uow.objects.put(attachment.thumbnail_key, prepared.thumbnail, "image/jpeg")
    uow.attachments.add(attachment)
    return attachment

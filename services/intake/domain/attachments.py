"""Files attached to a complaint, and the rules an upload must meet (what kinds, how large).

The kind is decided by the file's content (its magic bytes), never by its name: a program renamed
`photo.jpg` is refused. Why a file is refused is said in the caller's language, naming the file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from services.common import i18n as vocabulary


class Kind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    AUDIO = "audio"


class Source(enum.StrEnum):
    STAFF = "staff"  # the desk recording a complaint, or anyone who may see the case on its page
    WEB = "web"  # the customer's web form
    TASK = "task"  # a department, while working a task of the case


# Media type found in the content -> kind. HEIC (iPhones' photos) is read by pillow-heif and kept as JPEG.
ACCEPTED = {
    "image/jpeg": Kind.IMAGE,
    "image/png": Kind.IMAGE,
    "image/heic": Kind.IMAGE,
    "application/pdf": Kind.PDF,
    "audio/mpeg": Kind.AUDIO,
    "audio/mp4": Kind.AUDIO,
    "audio/aac": Kind.AUDIO,
    "audio/amr": Kind.AUDIO,
    "audio/ogg": Kind.AUDIO,
    "audio/x-wav": Kind.AUDIO,
    "audio/x-flac": Kind.AUDIO,
}

MAX_NAME = 200


@dataclass(frozen=True)
class Attachment:
    id: str
    complaint_id: str
    mall_id: str
    kind: Kind
    media_type: str
    size_bytes: int
    file_name: str
    object_key: str
    thumbnail_key: str | None
    source: Source
    task_id: str | None
    uploaded_by: str
    uploaded_at: datetime


def refusal(reason: str, language: str, **values) -> str:
    """Why a file is refused, in zh-CN or English."""
    return vocabulary.term("attachment_refusal", reason, language).format(**values)


def clean_name(name: str | None) -> str:
    """The file's own name without any folder, control characters or excess length ("" if none)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(char for char in base if char.isprintable()).strip()
    return printable[:MAX_NAME]

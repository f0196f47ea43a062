"""Files attached to a complaint, and the rules an upload must meet (what kinds, how large).

The kind is decided by the file's content (its magic bytes), never by its name: a program renamed
`photo.jpg` is refused. Why a file is refused is said in the caller's language, naming the file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


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


REFUSALS = {
    "zh-CN": {
        "missing": "请选择要上传的文件",
        "empty": "{name}：文件是空的",
        "too_large": "{name}：文件超过 {limit} MB 的上限",
        "wrong_kind": "{name}：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传",
        "unreadable": "{name}：照片已损坏或无法读取",
        "too_many": "一次最多上传 {count} 个文件",
    },
    "en": {
        "missing": "choose a file to upload",
        "empty": "{name}: the file is empty",
        "too_large": "{name}: the file is larger than the {limit} MB limit",
        "wrong_kind": "{name}: the file's content is not a photo (JPEG, PNG, HEIC), a PDF or a recording",
        "unreadable": "{name}: the photo is damaged or cannot be read",
        "too_many": "at most {count} files at a time",
    },
}


def refusal(reason: str, language: str, **values) -> str:
    """Why a file is refused, in zh-CN or English."""
    return REFUSALS["zh-CN" if language.startswith("zh") else "en"][reason].format(**values)


def clean_name(name: str | None) -> str:
    """The file's own name without any folder, control characters or excess length ("" if none)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(char for char in base if char.isprintable()).strip()
    return printable[:MAX_NAME]

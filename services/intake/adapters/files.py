"""Reading an uploaded file: its kind from its content (filetype's magic bytes), and for a photo a
copy without its metadata (EXIF: GPS position, camera, owner) and a thumbnail (Pillow, pillow-heif).

A photo is decoded and written again: only the pixels are kept, turned upright as the camera meant,
so nothing the phone wrote about where or by whom it was taken reaches the store. HEIC photos are
kept as JPEG, which every browser shows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from services.intake.domain.attachments import ACCEPTED, Kind

register_heif_opener()

THUMBNAIL_SIZE = (320, 320)
# A photo of more pixels than this is refused as unreadable, not decoded (a "decompression bomb").
Image.MAX_IMAGE_PIXELS = 60_000_000


class Unreadable(Exception):
    """The content claims to be a photo but Pillow cannot decode it."""


@dataclass(frozen=True)
class Prepared:
    """A file ready for the store: what it is, its bytes as kept, and a photo's thumbnail."""

    kind: Kind
    media_type: str
    data: bytes
    thumbnail: bytes | None


def media_type_of(data: bytes) -> str | None:
    """The media type the content's leading bytes say, if it is one we accept."""
    found = filetype.guess_mime(data[:8192])
    return found if found in ACCEPTED else None


def prepare(data: bytes, media_type: str) -> Prepared:
    """The file as it is kept: a photo cleaned of its metadata, with a thumbnail; others as sent."""
    kind = ACCEPTED[media_type]
    if kind is not Kind.IMAGE:
        return Prepared(kind, media_type, data, None)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            kept_type = "image/png" if media_type == "image/png" else "image/jpeg"
            clean = _pixels_only(upright, keep_alpha=kept_type == "image/png")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Unreadable(str(exc)) from exc
    return Prepared(kind, kept_type, _encode(clean, kept_type), _thumbnail(clean))


def _pixels_only(image: Image.Image, keep_alpha: bool) -> Image.Image:
    """A new image holding only the pixels: no EXIF, XMP, ICC or text chunks carried over."""
    mode = "RGBA" if keep_alpha and image.mode in ("RGBA", "LA", "P") else "RGB"
    converted = image.convert(mode)
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def _encode(image: Image.Image, media_type: str) -> bytes:
    out = io.BytesIO()
    if media_type == "image/png":
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    small = image.convert("RGB")
    small.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()

"""Keyset pagination cursors: an opaque token for (timestamp, id) of the last item of a page."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from services.common.errors import InvalidInput


def encode_cursor(moment: datetime, item_id: str) -> str:
    raw = json.dumps([moment.isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (timestamp, id) in a cursor this API returned; 400 naming `cursor` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, item_id = json.loads(raw)
        # The id goes to a uuid column: anything else would fail in the database, not here.
        return datetime.fromisoformat(moment), str(uuid.UUID(str(item_id)))
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidInput("bad cursor", {"cursor": ["not a cursor this API returned"]}, "query") from exc

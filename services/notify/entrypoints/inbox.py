"""The staff inbox: my notifications, newest first, and marking one read."""

from __future__ import annotations

from flask import current_app

from services.common.identity.model import ROLES, Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.notify.domain.commands import MarkRead
from services.notify.entrypoints import schemas

STAFF = tuple(role for role in ROLES if role != Role.SERVICE)

inbox = Blueprint("inbox", __name__, url_prefix="/inbox", description="My notifications (the staff inbox).")


def _notify():
    return current_app.extensions["notify"]


@inbox.route("")
@require_roles(*STAFF)
@inbox.arguments(schemas.InboxArgs(), location="query")
@inbox.response(200, schemas.InboxPage)
def list_mine(args):
    """My notifications, newest first; `unread=true` for the unread only; keyset pagination (`cursor`)."""
    identity = current_identity()
    after = decode_cursor(args["cursor"]) if "cursor" in args else None
    with _notify().uow() as uow:
        items = uow.inbox.mine(identity.mall_id, identity.subject, args["unread"], args["limit"], after)
        unread = uow.inbox.unread_count(identity.mall_id, identity.subject)
    next_cursor = (
        encode_cursor(items[-1]["created_at"], str(items[-1]["id"])) if len(items) == args["limit"] else None
    )
    return {"items": items, "unread": unread, "next_cursor": next_cursor}


@inbox.route("/<uuid:item_id>/read", methods=["POST"])
@require_roles(*STAFF)
@inbox.response(200, schemas.InboxItem)
@inbox.alt_response(404, response="NOT_FOUND")
def mark_read(item_id):
    """Mark one of my notifications read (marking it again keeps the first time)."""
    identity = current_identity()
    return _notify().bus.handle(MarkRead(str(item_id), identity.mall_id, identity.subject))

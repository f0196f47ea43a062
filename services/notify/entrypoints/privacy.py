"""A customer's copy of what notify holds of its complaints (PIPL), for admins: the console gathers it
with intake's and routing's parts into one document (docs/security.md)."""

from __future__ import annotations

import logging

from flask import current_app

from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.schemas import PersonalDataAsked
from services.notify.adapters.personal_data import held_of
from services.notify.entrypoints import schemas

log = logging.getLogger(__name__)

privacy = Blueprint("privacy", __name__, url_prefix="/privacy",
                    description="A customer's copy of what notify holds (PIPL). Admins only.")  # fmt: skip


@privacy.route("/exports", methods=["POST"])
@require_roles(Role.ADMIN)
@privacy.arguments(PersonalDataAsked())
@privacy.response(200, schemas.PersonalDataOut)
def post_export(data):
    """Each of these complaints as notify holds it, nothing masked: the customer's contact details and
    every message to the customer (address, text, state). Complaints notify never heard of are left out."""
    identity = current_identity()
    with current_app.extensions["notify"].session() as session:
        complaints = held_of(session.conn, identity.mall_id, [str(item) for item in data["complaint_ids"]])
    log.info("personal information request: notify's part handed out",
             extra={"request_id": str(data["request_id"] or ""), "complaints": len(complaints),
                    "by": identity.subject})  # fmt: skip
    return {"complaints": complaints}, 200, {"Cache-Control": "no-store"}

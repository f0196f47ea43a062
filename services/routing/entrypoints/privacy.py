"""A customer's copy of what routing holds of its cases (PIPL), for admins: the console gathers it
with intake's and notify's parts into one document (docs/security.md)."""

from __future__ import annotations

import logging

from flask import current_app

from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.schemas import PersonalDataAsked
from services.routing.adapters.personal_data import held_of
from services.routing.entrypoints import schemas

log = logging.getLogger(__name__)

privacy = Blueprint("privacy", __name__, url_prefix="/privacy",
                    description="A customer's copy of what routing holds (PIPL). Admins only.")  # fmt: skip


@privacy.route("/exports", methods=["POST"])
@require_roles(Role.ADMIN)
@privacy.arguments(PersonalDataAsked())
@privacy.response(200, schemas.PersonalDataOut)
def post_export(data):
    """Each case of these complaints as routing holds it, nothing masked: the customer in its workflow
    data, its timeline (who by role, when, what, with the data typed) and the messages it received.
    Complaints routing has no case of are left out."""
    identity = current_identity()
    with current_app.extensions["routing"].session() as session:
        cases = held_of(
            session.conn, identity.mall_id, [str(complaint_id) for complaint_id in data["complaint_ids"]]
        )
    log.info("personal information request: routing's part handed out",
             extra={"request_id": str(data["request_id"] or ""), "cases": len(cases), "by": identity.subject})  # fmt: skip
    return {"cases": cases}, 200, {"Cache-Control": "no-store"}

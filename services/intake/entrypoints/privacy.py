"""Customers' personal information requests (PIPL), for admins: a copy of what intake holds of a
customer's complaints, their erasure before the retention period ends, and the audit of both."""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app

from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.intake.domain.commands import EraseCustomerData, ExportCustomerData
from services.intake.entrypoints import privacy_schemas as schemas
from services.intake.entrypoints.presenters import as_written
from services.intake.entrypoints.recording import bus

privacy = Blueprint(
    "privacy",
    __name__,
    url_prefix="/privacy",
    description="Customers' personal information requests (PIPL): copies, erasure, their audit. Admins only.",
)
# What a customer's copy holds is theirs alone: no shared cache keeps it.
NOT_KEPT = {"Cache-Control": "no-store"}


def _command(kind, data: dict):
    return kind(
        contact=data["contact"],
        reason=data["reason"],
        actor_id=current_identity().subject,
        actor_role=Role.ADMIN,
    )


@privacy.route("/exports", methods=["POST"])
@require_roles(Role.ADMIN)
@privacy.arguments(schemas.PrivacyRequestIn())
@privacy.response(201, schemas.ExportOut)
def post_export(data):
    """Everything intake holds of the customer with this phone or e-mail: each complaint as recorded
    (unmasked) with its corrections. Audited; an unknown customer gets an empty list."""
    exported = bus().handle(_command(ExportCustomerData, data))
    complaints = [
        {
            "id": complaint.id,
            "number": complaint.number,
            "record": as_written(complaint),
            "history": exported.history[complaint.id],
        }
        for complaint in exported.complaints
    ]
    return {"request": asdict(exported.request), "complaints": complaints}, 201, NOT_KEPT


@privacy.route("/erasures", methods=["POST"])
@require_roles(Role.ADMIN)
@privacy.arguments(schemas.PrivacyRequestIn())
@privacy.response(201, schemas.PrivacyRequestOut)
def post_erasure(data):
    """Erase the personal data of every complaint of the customer with this phone or e-mail, now:
    intake's at once, routing's, notify's and reporting's as they hear `retention.erasure_requested`.
    The counts stay. Audited; an unknown customer erases nothing."""
    return asdict(bus().handle(_command(EraseCustomerData, data))), 201


@privacy.route("/requests")
@require_roles(Role.ADMIN)
@privacy.arguments(schemas.RequestListArgs(), location="query")
@privacy.response(200, schemas.PrivacyRequestPage)
def get_requests(args):
    """Every copy and erasure asked for, newest first: who, when, why, the customer masked, which complaints."""
    identity = current_identity()
    after = decode_cursor(args["cursor"]) if "cursor" in args else None
    with current_app.extensions["intake.uow"]() as uow:
        found = uow.privacy.list(identity.mall_id, args["limit"], after)
    last = found[-1] if len(found) == args["limit"] else None
    next_cursor = encode_cursor(last.requested_at, last.id) if last else None
    return {"items": [asdict(request) for request in found], "next_cursor": next_cursor}

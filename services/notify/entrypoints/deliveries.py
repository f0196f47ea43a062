"""The delivery log for the desk and managers: what was sent to whom, each attempt, the answers."""

from __future__ import annotations

from flask import Response, current_app

from services.common.errors import NotFound
from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.notify.domain.commands import RetryDelivery
from services.notify.entrypoints import schemas
from services.notify.entrypoints.presenters import present_delivery, present_log

LOG_READERS = (Role.SERVICE_DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ADMIN)
DESK = (Role.SERVICE_DESK,)

deliveries = Blueprint(
    "deliveries", __name__, url_prefix="", description="The delivery log (desk, managers)."
)


def _notify():
    return current_app.extensions["notify"]


@deliveries.route("/complaints/<uuid:complaint_id>/deliveries")
@require_roles(*LOG_READERS)
@deliveries.response(200, schemas.ComplaintLog)
@deliveries.alt_response(404, response="NOT_FOUND")
def complaint_log(complaint_id):
    """Every message asked for about a complaint: its deliveries, each attempt, the provider's answers."""
    with _notify().uow() as uow:
        requests = uow.requests.of_complaint(str(complaint_id))
        if not requests and uow.complaints.get(str(complaint_id)) is None:
            raise NotFound(f"notify knows no complaint {complaint_id}")
        rows = uow.log.of_complaint(str(complaint_id))
    return present_log(str(complaint_id), requests, rows, current_identity())


@deliveries.route("/deliveries/failed")
@require_roles(*LOG_READERS)
@deliveries.arguments(schemas.PageArgs(), location="query")
@deliveries.response(200, schemas.DeliveryPage)
def failed(args):
    """Deliveries that failed for good, newest first: what the desk must follow up."""
    identity = current_identity()
    after = decode_cursor(args["cursor"]) if "cursor" in args else None
    with _notify().uow() as uow:
        rows = uow.log.failed(identity.mall_id, args["limit"], after)
    next_cursor = (
        encode_cursor(rows[-1]["created_at"], str(rows[-1]["id"])) if len(rows) == args["limit"] else None
    )
    return {"items": [present_delivery(row, identity) for row in rows], "next_cursor": next_cursor}


@deliveries.route("/deliveries/<uuid:delivery_id>/letter.pdf")
@require_roles(*DESK)
@deliveries.alt_response(404, response="NOT_FOUND")
@deliveries.doc(responses={200: {"description": "the letter, to print", "content": {"application/pdf": {}}}})
def letter(delivery_id):
    """The printable letter (PDF) of a written reply."""
    with _notify().uow() as uow:
        row = uow.log.letter(current_identity().mall_id, str(delivery_id))
    if row is None:
        raise NotFound(f"no letter for delivery {delivery_id}")
    return Response(
        bytes(row["pdf"]),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{delivery_id}.pdf"'},
    )


@deliveries.route("/deliveries/<uuid:delivery_id>/retry", methods=["POST"])
@require_roles(*DESK)
@deliveries.response(200, schemas.DeliveryOut)
@deliveries.alt_response(404, response="NOT_FOUND")
@deliveries.alt_response(409, response="CONFLICT")
def retry(delivery_id):
    """Try a failed delivery again now, with a fresh set of attempts (the log keeps the old ones)."""
    identity = current_identity()
    row = _notify().bus.handle(RetryDelivery(str(delivery_id), identity.mall_id))
    return present_delivery(row, identity, log=[])

"""Complaint records for staff: record, list, read, correct, history."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import Enum

from flask import current_app
from flask.views import MethodView

from services.common.errors import NotFound
from services.common.identity.model import Identity, Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.intake.adapters.holders import open_holders
from services.intake.adapters.progress import progress_of, stages_of
from services.intake.adapters.repository import ListQuery, former_customers
from services.intake.domain.commands import CorrectComplaint
from services.intake.domain.model import Category, ReplyChannel, customer_requests
from services.intake.domain.status import stage_of
from services.intake.entrypoints import schemas
from services.intake.entrypoints.access import DESK, READ_ROLES, may_read
from services.intake.entrypoints.presenters import masked_ids, present, present_history
from services.intake.entrypoints.recording import bus, record_command, replay_headers, with_rule_errors

complaints = Blueprint(
    "complaints",
    __name__,
    url_prefix="/complaints",
    description="Complaint records (客户投诉记录), for staff.",
)


@complaints.route("")
class ComplaintCollection(MethodView):
    @require_roles(*DESK)
    @with_rule_errors("complaints")
    @complaints.arguments(schemas.IdempotencyHeader(), location="headers", as_kwargs=True)
    @complaints.arguments(schemas.ComplaintIn())
    @complaints.response(201, schemas.ComplaintOut)
    @complaints.alt_response(409, response="CONFLICT")
    def post(self, data, idempotency_key=None):
        """Record a complaint from any channel.

        Severity and the receipt number are computed; `complaint.received` is announced once the
        record is committed. Send an `Idempotency-Key` so a retry records nothing twice.
        """
        identity = current_identity()
        recorded = bus().handle(record_command(data, identity, idempotency_key, "complaints"))
        # a new complaint: no task has reached it yet, no postponement
        answer = {
            **present(recorded.complaint, identity),
            "stage": "received",
            "reply_date_postponed_to": None,
        }
        return answer, 201, replay_headers(recorded)

    @require_roles(*READ_ROLES)
    @complaints.arguments(schemas.ListArgs(), location="query")
    @complaints.response(200, schemas.ComplaintPage)
    def get(self, args):
        """List complaints, newest first, with filters and keyset pagination (`cursor`)."""
        identity = current_identity()
        query = _list_query(args, identity)
        with current_app.extensions["intake.uow"]() as uow:
            found = uow.complaints.list(query)
            holders = open_holders(uow.conn, [item.id for item in found])
            stages = stages_of(uow.conn, [item.id for item in found])
            former = former_customers(uow.conn, masked_ids(found, identity, holders))
        next_cursor = (
            encode_cursor(found[-1].received_at, found[-1].id) if len(found) == query.limit else None
        )
        items = [
            {
                **present(item, identity, holders[item.id], former.get(item.id, ())),
                **stages.get(item.id, {}),
            }
            for item in found
        ]
        return {"items": items, "next_cursor": next_cursor}


def _list_query(args: dict, identity: Identity) -> ListQuery:
    return ListQuery(
        limit=args["limit"],
        after=decode_cursor(args["cursor"]) if "cursor" in args else None,
        ids=tuple(args["id"]) if "id" in args else None,
        **list_filters(args, identity),
    )


def list_filters(args: dict, identity: Identity) -> dict:
    """The list's filters (search's too) as query fields, with the caller's mall and scope."""
    zone = current_app.extensions["mall.settings"].zone
    start = datetime.combine(args["received_from"], time.min, zone) if "received_from" in args else None
    end = (
        datetime.combine(args["received_to"] + timedelta(days=1), time.min, zone)
        if "received_to" in args
        else None
    )
    floors, departments = identity.scope or (None, None)
    return dict(
        mall_id=identity.mall_id,
        filters={
            name: args.get(name)
            for name in ("status", "category", "channel", "floor", "department", "severity")
        },
        merchant=args.get("merchant"),
        received_from=start,
        received_before=end,
        scope_floors=floors,
        scope_departments=departments,
        phone=args.get("phone"),
        overdue_at=bus().context.clock.now() if args.get("overdue") else None,
        stage=args.get("stage"),
    )


def _visible_or_404(conn, complaint, identity: Identity, wanted: str):
    if not may_read(conn, identity, complaint):
        raise NotFound(f"no complaint {wanted}")
    return complaint


def _present_one(find, identity: Identity, wanted: str) -> dict:
    """One complaint found by `find(uow)`, shown to `identity` (unmasked if it holds the case)."""
    with current_app.extensions["intake.uow"]() as uow:
        complaint = _visible_or_404(uow.conn, find(uow), identity, wanted)
        holders = open_holders(uow.conn, [complaint.id])[complaint.id]
        former = former_customers(uow.conn, masked_ids([complaint], identity, {complaint.id: holders}))
        progress = progress_of(uow.conn, complaint.id)
    return {
        **present(complaint, identity, holders, former.get(complaint.id, ())),
        "stage": stage_of(progress.stage, progress.has_tasks),  # as the list says it
        "reply_date_postponed_to": progress.postponed_to,
    }


@complaints.route("/<uuid:complaint_id>")
class ComplaintItem(MethodView):
    @require_roles(*READ_ROLES)
    @complaints.response(200, schemas.ComplaintOut)
    @complaints.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id):
        """One complaint by id."""
        identity = current_identity()
        return _present_one(
            lambda uow: uow.complaints.get(identity.mall_id, str(complaint_id)), identity, str(complaint_id)
        )

    @require_roles(*DESK)
    @complaints.arguments(schemas.CorrectionIn())
    @complaints.response(200, schemas.ComplaintOut)
    @complaints.alt_response(404, response="NOT_FOUND")
    def patch(self, data, complaint_id):
        """Correct a complaint; the old values go to its history with the reason given."""
        identity = current_identity()
        reason = data.pop("reason")
        customer_changes = data.pop("customer", {})
        command = CorrectComplaint(
            complaint_id=str(complaint_id),
            changes=_corrected_values(data),
            reason=reason,
            actor_id=identity.subject,
            actor_role=sorted(identity.roles)[0],
            customer_changes=_as_enums(customer_changes, {"preferred_reply_channel": ReplyChannel}),
        )
        corrected = bus().handle(command)
        return _present_one(lambda uow: corrected, identity, str(complaint_id))


CORRECTED_ENUMS: dict[str, type[Enum]] = {"category": Category}


def _corrected_values(data: dict) -> dict:
    """The fields to correct as the domain holds them; customer_request null clears it to ()."""
    changes = _as_enums(data, CORRECTED_ENUMS)
    if "customer_request" in changes:
        changes["customer_request"] = customer_requests(changes["customer_request"])
    return changes


def _as_enums(values: dict, kinds: dict[str, type[Enum]]) -> dict:
    """The schema's plain strings as the domain's enums, as _record_command does; None stays None."""
    return {
        name: kinds[name](value) if name in kinds and value is not None else value
        for name, value in values.items()
    }


@complaints.route("/by-number/<string:number>")
@require_roles(*READ_ROLES)
@complaints.response(200, schemas.ComplaintOut)
@complaints.alt_response(404, response="NOT_FOUND")
def get_by_number(number):
    """One complaint by its receipt number, e.g. TS-20261122-0007."""
    identity = current_identity()
    if "\x00" in number:  # no number holds a NUL, and PostgreSQL text cannot carry one to compare
        raise NotFound(f"no complaint {number!r}")
    return _present_one(lambda uow: uow.complaints.get_by_number(identity.mall_id, number), identity, number)


@complaints.route("/<uuid:complaint_id>/history")
@require_roles(*DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER)
@complaints.response(200, schemas.HistoryEntry(many=True))
@complaints.alt_response(404, response="NOT_FOUND")
def get_history(complaint_id):
    """The corrections made to a complaint, oldest first, with old and new values (the customer's
    masked, and the texts scrubbed, unless you hold the case)."""
    identity = current_identity()
    with current_app.extensions["intake.uow"]() as uow:
        complaint = _visible_or_404(
            uow.conn, uow.complaints.get(identity.mall_id, str(complaint_id)), identity, str(complaint_id)
        )
        entries = uow.complaints.history(complaint.id)
        holders = open_holders(uow.conn, [complaint.id])[complaint.id]
    return present_history(entries, complaint, identity, holders)

"""Intake's HTTP API: complaints for staff, the public web form, and reference data."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta
from enum import Enum

from flask import current_app
from flask.views import MethodView

from services.common.errors import InvalidInput, NotFound
from services.common.identity.model import Identity, Role
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.intake.adapters.repository import ListQuery
from services.intake.domain.commands import CorrectComplaint, RecordComplaint
from services.intake.domain.model import Category, Channel, Customer, CustomerRequest, ReplyChannel
from services.intake.entrypoints import schemas
from services.intake.entrypoints.presenters import present

READ_ROLES = (
    Role.SERVICE_DESK,
    Role.FLOOR_SUPERVISOR,
    Role.DEPARTMENT_MANAGER,
    Role.OPERATIONS_MANAGER,
    Role.DEPUTY_STORE_MANAGER,
    Role.STORE_MANAGER,
    Role.SERVICE,
)
DESK = (Role.SERVICE_DESK,)
REFERENCE_EDITORS = (Role.ADMIN, Role.OPERATIONS_MANAGER)
PUBLIC_ACTOR = "public-web-form"

complaints = Blueprint(
    "complaints",
    __name__,
    url_prefix="/complaints",
    description="Complaint records (客户投诉记录), for staff.",
)
public = Blueprint(
    "public",
    __name__,
    url_prefix="/public",
    description="The customer-facing web form: no login, rate-limited.",
)
reference = Blueprint(
    "reference",
    __name__,
    url_prefix="/reference",
    description="Floors, departments and merchants of the mall.",
)


def _bus():
    return current_app.extensions["intake.bus"]


def _fingerprint(route: str, data: dict) -> str:
    canonical = json.dumps({"route": route, "body": data}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _record_command(data: dict, actor: Identity | None, key: str | None, route: str) -> RecordComplaint:
    customer = dict(data["customer"])
    reply = customer.get("preferred_reply_channel")
    customer["preferred_reply_channel"] = ReplyChannel(reply) if reply else None
    return RecordComplaint(
        channel=Channel(data.get("channel", Channel.WEB)),
        category=Category(data["category"]),
        customer=Customer(**customer),
        description=data["description"],
        actor_id=actor.subject if actor else PUBLIC_ACTOR,
        actor_role=sorted(actor.roles)[0] if actor else None,
        occurred_at=data.get("occurred_at"),
        floor=data.get("floor"),
        merchant_code=data.get("merchant_code"),
        department=data.get("department"),
        about_department_manager=data.get("about_department_manager", False),
        handle_directly=data.get("handle_directly", False),
        customer_request=CustomerRequest(data["customer_request"]) if data.get("customer_request") else None,
        amount=data.get("amount"),
        people_count=data.get("people_count", 1),
        injury=data.get("injury", False),
        media_exposure=data.get("media_exposure", False),
        lawsuit=data.get("lawsuit", False),
        promised_reply_date=data.get("promised_reply_date"),
        idempotency_key=key,
        fingerprint=_fingerprint(route, data) if key else None,
    )


def _replay_headers(recorded) -> dict:
    return {"Idempotent-Replayed": "true"} if recorded.replayed else {}


@complaints.route("")
class ComplaintCollection(MethodView):
    @require_roles(*DESK)
    @complaints.arguments(schemas.IdempotencyHeader, location="headers", as_kwargs=True)
    @complaints.arguments(schemas.ComplaintIn)
    @complaints.response(201, schemas.ComplaintOut)
    @complaints.alt_response(409, response="CONFLICT")
    def post(self, data, idempotency_key=None):
        """Record a complaint from any channel.

        Severity and the receipt number are computed; `complaint.received` is announced once the
        record is committed. Send an `Idempotency-Key` so a retry records nothing twice.
        """
        identity = current_identity()
        recorded = _bus().handle(_record_command(data, identity, idempotency_key, "complaints"))
        return present(recorded.complaint, identity), 201, _replay_headers(recorded)

    @require_roles(*READ_ROLES)
    @complaints.arguments(schemas.ListArgs, location="query")
    @complaints.response(200, schemas.ComplaintPage)
    def get(self, args):
        """List complaints, newest first, with filters and keyset pagination (`cursor`)."""
        identity = current_identity()
        query = _list_query(args, identity)
        with current_app.extensions["intake.uow"]() as uow:
            found = uow.complaints.list(query)
        next_cursor = (
            encode_cursor(found[-1].received_at, found[-1].id) if len(found) == query.limit else None
        )
        return {"items": [present(item, identity) for item in found], "next_cursor": next_cursor}


def _list_query(args: dict, identity: Identity) -> ListQuery:
    zone = current_app.extensions["mall.settings"].zone
    start = datetime.combine(args["received_from"], time.min, zone) if "received_from" in args else None
    end = (
        datetime.combine(args["received_to"] + timedelta(days=1), time.min, zone)
        if "received_to" in args
        else None
    )
    scoped = not identity.sees_whole_mall
    return ListQuery(
        mall_id=identity.mall_id,
        limit=args["limit"],
        after=decode_cursor(args["cursor"]) if "cursor" in args else None,
        filters={
            name: args.get(name)
            for name in ("status", "category", "channel", "floor", "department", "severity")
        },
        merchant=args.get("merchant"),
        received_from=start,
        received_before=end,
        scope_floors=tuple(identity.floors) if scoped else None,
        scope_departments=tuple(identity.departments) if scoped else None,
    )


def _visible_or_404(complaint, identity: Identity, wanted: str):
    if complaint is None or not identity.can_see(complaint.floor, complaint.department):
        raise NotFound(f"no complaint {wanted}")
    return complaint


@complaints.route("/<uuid:complaint_id>")
class ComplaintItem(MethodView):
    @require_roles(*READ_ROLES)
    @complaints.response(200, schemas.ComplaintOut)
    @complaints.alt_response(404, response="NOT_FOUND")
    def get(self, complaint_id):
        """One complaint by id."""
        identity = current_identity()
        with current_app.extensions["intake.uow"]() as uow:
            complaint = uow.complaints.get(identity.mall_id, str(complaint_id))
        return present(_visible_or_404(complaint, identity, str(complaint_id)), identity)

    @require_roles(*DESK)
    @complaints.arguments(schemas.CorrectionIn)
    @complaints.response(200, schemas.ComplaintOut)
    @complaints.alt_response(404, response="NOT_FOUND")
    def patch(self, data, complaint_id):
        """Correct a complaint; the old values go to its history with the reason given."""
        identity = current_identity()
        reason = data.pop("reason")
        customer_changes = data.pop("customer", {})
        command = CorrectComplaint(
            complaint_id=str(complaint_id),
            changes=_as_enums(data, CORRECTED_ENUMS),
            reason=reason,
            actor_id=identity.subject,
            actor_role=sorted(identity.roles)[0],
            customer_changes=_as_enums(customer_changes, {"preferred_reply_channel": ReplyChannel}),
        )
        return present(_bus().handle(command), identity)


CORRECTED_ENUMS: dict[str, type[Enum]] = {"category": Category, "customer_request": CustomerRequest}


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
    with current_app.extensions["intake.uow"]() as uow:
        complaint = uow.complaints.get_by_number(identity.mall_id, number)
    return present(_visible_or_404(complaint, identity, number), identity)


@complaints.route("/<uuid:complaint_id>/history")
@require_roles(*DESK, Role.OPERATIONS_MANAGER, Role.STORE_MANAGER)
@complaints.response(200, schemas.HistoryEntry(many=True))
@complaints.alt_response(404, response="NOT_FOUND")
def get_history(complaint_id):
    """The corrections made to a complaint, oldest first, with old and new values."""
    identity = current_identity()
    with current_app.extensions["intake.uow"]() as uow:
        _visible_or_404(uow.complaints.get(identity.mall_id, str(complaint_id)), identity, str(complaint_id))
        return uow.complaints.history(str(complaint_id))


@public.route("/complaints", methods=["POST"])
@public.arguments(schemas.IdempotencyHeader, location="headers", as_kwargs=True)
@public.arguments(schemas.PublicComplaintIn)
@public.response(201, schemas.PublicReceiptOut)
@public.alt_response(409, response="CONFLICT")
@public.alt_response(429, response="TOO_MANY_REQUESTS")
@public.doc(security=[])
def post_public_complaint(data, idempotency_key=None):
    """Send a complaint from the mall's web form; answers with the receipt number."""
    recorded = _bus().handle(_record_command(data, None, idempotency_key, "public"))
    complaint = recorded.complaint
    receipt = {
        "number": complaint.number,
        "received_at": complaint.received_at,
        "promised_reply_date": complaint.promised_reply_date,
    }
    return receipt, 201, _replay_headers(recorded)


@public.route("/reference")
@public.response(200, schemas.PublicReference)
@public.doc(security=[])
def get_public_reference():
    """Floors, departments and shop names for the web form (no contact details)."""
    mall_id = current_app.extensions["mall.settings"].mall_id
    with current_app.extensions["intake.uow"]() as uow:
        return {
            "floors": uow.reference.floors(mall_id),
            "departments": uow.reference.departments(mall_id),
            "merchants": uow.reference.merchants(mall_id),
        }


@reference.route("/floors")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reference.response(200, schemas.FloorSchema(many=True))
def list_floors():
    """The mall's floors, lowest first."""
    with current_app.extensions["intake.uow"]() as uow:
        return uow.reference.floors(current_identity().mall_id)


@reference.route("/departments")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reference.response(200, schemas.DepartmentSchema(many=True))
def list_departments():
    """The mall's departments."""
    with current_app.extensions["intake.uow"]() as uow:
        return uow.reference.departments(current_identity().mall_id)


@reference.route("/merchants")
@require_roles(*READ_ROLES, *REFERENCE_EDITORS)
@reference.arguments(schemas.MerchantArgs, location="query")
@reference.response(200, schemas.MerchantSchema(many=True))
def list_merchants(args):
    """The mall's merchants with their person in charge, optionally of one floor."""
    with current_app.extensions["intake.uow"]() as uow:
        return uow.reference.merchants(current_identity().mall_id, args.get("floor"))


def _check_code(code: str) -> None:
    if not schemas.REFERENCE_CODE.regex.match(code):
        raise InvalidInput("bad code", {"code": ["letters, digits, '-' and '_' only, at most 40"]})


@reference.route("/floors/<string:code>", methods=["PUT"])
@require_roles(*REFERENCE_EDITORS)
@reference.arguments(schemas.FloorSchema)
@reference.response(200, schemas.FloorSchema)
def put_floor(data, code):
    """Create or rename a floor."""
    _check_code(code)
    with current_app.extensions["intake.uow"]() as uow:
        uow.reference.upsert_floor(current_identity().mall_id, {**data, "code": code})
        uow.commit()
    return {**data, "code": code}


@reference.route("/departments/<string:code>", methods=["PUT"])
@require_roles(*REFERENCE_EDITORS)
@reference.arguments(schemas.DepartmentSchema)
@reference.response(200, schemas.DepartmentSchema)
def put_department(data, code):
    """Create or rename a department."""
    _check_code(code)
    with current_app.extensions["intake.uow"]() as uow:
        uow.reference.upsert_department(current_identity().mall_id, {**data, "code": code})
        uow.commit()
    return {**data, "code": code}


@reference.route("/merchants/<string:code>", methods=["PUT"])
@require_roles(*REFERENCE_EDITORS)
@reference.arguments(schemas.MerchantSchema)
@reference.response(200, schemas.MerchantSchema)
def put_merchant(data, code):
    """Create or update a merchant (its floor must exist)."""
    _check_code(code)
    mall_id = current_identity().mall_id
    with current_app.extensions["intake.uow"]() as uow:
        if not any(floor["code"] == data["floor"] for floor in uow.reference.floors(mall_id)):
            raise InvalidInput("unknown floor", {"floor": [f"unknown floor {data['floor']!r}"]})
        uow.reference.upsert_merchant(mall_id, {**data, "code": code})
        uow.commit()
    return {**data, "code": code}

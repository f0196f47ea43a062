"""Finding complaints: search, the customer's history by phone, and related complaints (link, merge)."""

from __future__ import annotations

from flask import current_app

from services.common.errors import NotFound
from services.common.identity.holders import sees_customer
from services.common.identity.model import Identity
from services.common.scrubber import customer_masks, scrub
from services.common.web import Blueprint, current_identity, require_roles
from services.intake.adapters.holders import open_holders
from services.intake.adapters.progress import stages_of
from services.intake.adapters.repository import former_customers
from services.intake.adapters.rows import from_row
from services.intake.adapters.search import ComplaintSearch, SearchQuery
from services.intake.domain.commands import LinkComplaints, MergeComplaints
from services.intake.domain.model import Complaint
from services.intake.entrypoints import search_schemas as schemas
from services.intake.entrypoints.access import DESK, READ_ROLES, may_read
from services.intake.entrypoints.complaints import list_filters
from services.intake.entrypoints.presenters import masked_ids, present
from services.intake.entrypoints.recording import bus

finding = Blueprint(
    "finding",
    __name__,
    url_prefix="/complaints",
    description="Search, the customer's history, related complaints (查找、客户历史、相关投诉).",
)
RELATED_SHOWN = 20


def _uow():
    return current_app.extensions["intake.uow"]()


@finding.route("/search")
@require_roles(*READ_ROLES)
@finding.arguments(schemas.SearchArgs(), location="query")
@finding.response(200, schemas.SearchPage)
def search(args):
    """Find complaints by number, phone or words (Chinese full text of the customer's name, the shop,
    the description, the request and every resolution), best match first, within the caller's scope,
    with the list's filters; shown masked as the list is."""
    identity = current_identity()
    now = bus().context.clock.now()
    query = SearchQuery(text=args.get("q"), limit=args["limit"], now=now, **list_filters(args, identity))
    with _uow() as uow:
        found = ComplaintSearch(uow.conn).find(query)
        holders = open_holders(uow.conn, [item.id for item in found])
        stages = stages_of(uow.conn, [item.id for item in found])
        former = former_customers(uow.conn, masked_ids(found, identity, holders))
    return {
        "items": [
            {
                **present(item, identity, holders[item.id], former.get(item.id, ())),
                **stages.get(item.id, {}),
            }
            for item in found
        ]
    }


@finding.route("/customer-history")
@require_roles(*READ_ROLES)
@finding.arguments(schemas.HistoryArgs(), location="query")
@finding.response(200, schemas.CustomerHistory)
def customer_history(args):
    """The complaints a phone number made before (as the desk types it), newest first, within scope."""
    identity = current_identity()
    return _history(identity, args["phone"], args["limit"])


@finding.route("/<uuid:complaint_id>/customer-history")
@require_roles(*READ_ROLES)
@finding.response(200, schemas.CustomerHistory)
@finding.alt_response(404, response="NOT_FOUND")
def case_customer_history(complaint_id):
    """The other complaints of this complaint's phone number."""
    identity = current_identity()
    complaint = _visible(identity, str(complaint_id))
    if not complaint.customer.phone:
        return {"count": 0, "last_received_at": None, "open_count": 0, "items": []}
    return _history(identity, complaint.customer.phone, 10, leave_out=complaint.id)


def _history(identity: Identity, phone: str, limit: int, leave_out: str | None = None) -> dict:
    scope = SearchQuery(limit=limit, **list_filters({}, identity))
    with _uow() as uow:
        rows = ComplaintSearch(uow.conn).by_phone(phone, limit + 1, scope)
        rows = [row for row in rows if str(row["id"]) != leave_out][:limit]
        found = [from_row_with_extras(row) for row in rows]
        holders = open_holders(uow.conn, [item.id for item, _ in found])
        former = former_customers(uow.conn, masked_ids([item for item, _ in found], identity, holders))
        stages = stages_of(uow.conn, [item.id for item, _ in found])
        count = ComplaintSearch(uow.conn).count_by_phone(phone, scope, leave_out)
    items = [
        _earlier(
            item,
            identity,
            holders[item.id],
            former.get(item.id, ()),
            {**extras, "closed": stages[item.id]["stage"] == "closed"},
        )
        for item, extras in found
    ]
    return {
        "count": count,
        "last_received_at": items[0]["received_at"] if items else None,
        "open_count": sum(1 for item in items if item["open"]),
        "items": items,
    }


def from_row_with_extras(row: dict) -> tuple[Complaint, dict]:
    return from_row(row), {
        "resolutions": row.get("resolutions") or "",
        "merged_into": row.get("merged_into_number"),
    }


def _earlier(
    complaint: Complaint, identity: Identity, holders, former=(), extras: dict | None = None
) -> dict:
    """One complaint in a short list: masked like the list, its last resolution scrubbed likewise
    (of the customer's details as they are and as corrections replaced them, `former`). The last
    resolution is the outcome only once the case is closed: before, it may be one the operations
    manager rejected at sign-off, or one the customer turned down at the callback."""
    shown = present(complaint, identity, holders, former)
    extras = extras or {}
    last = (extras.get("resolutions") or "").rsplit("\n", 1)[-1] if extras.get("closed") else None
    last = last or None
    if last and not sees_customer(identity, holders):
        last = scrub(last, customer_masks(complaint.customer.as_dict(), *former))
    return {
        "id": complaint.id,
        "number": complaint.number,
        "received_at": complaint.received_at,
        "category": complaint.category.value,
        "shop_name": complaint.merchant.shop_name if complaint.merchant else None,
        "merchant_code": complaint.merchant.code if complaint.merchant else None,
        "description": shown["description"],
        "open": bool(holders),
        "outcome": last,
        "merged_into": extras.get("merged_into"),
    }


def _visible(identity: Identity, complaint_id: str) -> Complaint:
    """The complaint if the caller may read it (`may_read`); 404 otherwise. Linking and merging are
    the desk's, which reads every complaint of the mall."""
    with _uow() as uow:
        complaint = uow.complaints.get(identity.mall_id, complaint_id)
        allowed = may_read(uow.conn, identity, complaint)
    if not allowed:
        raise NotFound(f"no complaint {complaint_id}")
    return complaint


@finding.route("/<uuid:complaint_id>/related")
@require_roles(*READ_ROLES)
@finding.response(200, schemas.Related)
@finding.alt_response(404, response="NOT_FOUND")
def related(complaint_id):
    """Complaints linked or merged with this one, and those that look related (same shop, or floor
    without a shop, and category, within the policy's recurrence window), within the caller's scope."""
    return _related(current_identity(), str(complaint_id))


def _related(identity: Identity, complaint_id: str) -> dict:
    complaint = _visible(identity, complaint_id)
    window = current_app.extensions["mall.settings"].policy.capa_window
    with _uow() as uow:
        linked = [
            (item, kind, merged)
            for item, kind, merged in uow.links.linked(complaint.id)
            if identity.can_see(item.floor, item.department)
        ]
        suggested = [
            item
            for item in uow.links.candidates(
                complaint, complaint.received_at - window, complaint.received_at + window, RELATED_SHOWN
            )
            if identity.can_see(item.floor, item.department)
        ]
        own = uow.links.merged_into([complaint.id])[complaint.id]
        holders = open_holders(uow.conn, [item.id for item, _, _ in linked] + [item.id for item in suggested])
        shown = [item for item, _, _ in linked] + suggested
        former = former_customers(uow.conn, masked_ids(shown, identity, holders))

    def earlier(item: Complaint) -> dict:
        return _earlier(item, identity, holders[item.id], former.get(item.id, ()))

    return {
        "merged_into": next(
            ({**earlier(item), "link": kind} for item, kind, _ in linked if item.id == own),
            None,
        ),
        "linked": [{**earlier(item), "link": kind} for item, kind, _ in linked],
        "suggested": [{**earlier(item), "link": None} for item in suggested],
    }


@finding.route("/<uuid:complaint_id>/links", methods=["POST"])
@require_roles(*DESK)
@finding.arguments(schemas.LinkIn())
@finding.response(201, schemas.Related)
@finding.alt_response(404, response="NOT_FOUND")
def link(data, complaint_id):
    """Mark another complaint as about the same incident; both show the other as related."""
    identity = current_identity()
    _visible(identity, str(complaint_id))
    _visible(identity, str(data["related_id"]))
    bus().handle(
        LinkComplaints(
            str(complaint_id), str(data["related_id"]), identity.subject, sorted(identity.roles)[0]
        )
    )
    return _related(identity, str(complaint_id)), 201


@finding.route("/<uuid:complaint_id>/merge", methods=["POST"])
@require_roles(*DESK)
@finding.arguments(schemas.MergeIn())
@finding.response(200, schemas.ComplaintOut)
@finding.alt_response(404, response="NOT_FOUND")
@finding.alt_response(409, response="CONFLICT")
def merge(data, complaint_id):
    """Make this the collective complaint of one incident: the others merged into it (their people
    count added, so ten or more makes it major), each closing pointing to it."""
    identity = current_identity()
    for wanted in [str(complaint_id), *map(str, data["merged_ids"])]:
        _visible(identity, wanted)
    command = MergeComplaints(
        str(complaint_id),
        tuple(map(str, data["merged_ids"])),
        data["reason"],
        identity.subject,
        sorted(identity.roles)[0],
    )
    return present(bus().handle(command), identity)

"""CAPA records (客诉纠正与预防措施记录) over HTTP: list, read, and the operations manager's updates."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from services.common.errors import NotFound
from services.common.web import Blueprint, current_identity, require_roles
from services.common.web.pagination import decode_cursor, encode_cursor
from services.reporting.domain.commands import UpdateCapa
from services.reporting.entrypoints import answers, schemas
from services.reporting.entrypoints.access import CAPA_EDITORS, CAPA_READERS

capa = Blueprint(
    "capa",
    __name__,
    url_prefix="/capa",
    description="Corrective and preventive action records, opened when a problem recurs.",
)


def _reporting():
    return current_app.extensions["reporting"]


@capa.route("")
@require_roles(*CAPA_READERS)
@capa.arguments(schemas.CapaListArgs(), location="query")
@capa.response(200, answers.CapaPage)
def list_capa(args):
    """CAPA records, newest first, by status; a floor supervisor or department manager sees its own places."""
    identity = current_identity()
    after = decode_cursor(args["cursor"]) if "cursor" in args else None
    with _reporting().uow() as uow:
        rows = uow.capa.list(identity.mall_id, args.get("status"), args["limit"], after, identity.scope)
    last = rows[-1] if len(rows) == args["limit"] else None
    return {"items": rows, "next_cursor": encode_cursor(last["opened_at"], str(last["id"])) if last else None}


@capa.route("/<uuid:capa_id>")
class CapaItem(MethodView):
    @require_roles(*CAPA_READERS)
    @capa.response(200, answers.CapaOut)
    @capa.alt_response(404, response="NOT_FOUND")
    def get(self, capa_id):
        """One CAPA record, with the complaints that opened it and joined it since."""
        identity = current_identity()
        with _reporting().uow() as uow:
            return _visible_or_404(uow.capa.get(identity.mall_id, str(capa_id)), identity, capa_id)

    @require_roles(*CAPA_EDITORS)
    @capa.arguments(schemas.CapaPatch())
    @capa.response(200, answers.CapaOut)
    @capa.alt_response(404, response="NOT_FOUND")
    @capa.alt_response(409, response="CONFLICT")
    def patch(self, data, capa_id):
        """Record cause, action, owner, due date and verification; `status` `verified` closes the record
        (it needs cause, action, owner and verification). Filling anything in moves an open record to
        `in_progress`. Send the `version` read to refuse an update over someone else's (409)."""
        identity = current_identity()
        status, version = data.pop("status", None), data.pop("version", None)
        command = UpdateCapa(
            mall_id=identity.mall_id,
            capa_id=str(capa_id),
            actor_id=identity.subject,
            changes=data,
            status=status,
            expected_version=version,
        )
        return _reporting().bus.handle(command)


def _visible_or_404(record, identity, capa_id):
    if record is None or not identity.can_see(record["floor"], record["department"]):
        raise NotFound(f"no CAPA record {capa_id}")
    return record

"""A case's pending timers over HTTP: listed for whoever reads the case, fired or moved by an operator."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.routing.domain.commands import MoveTimer
from services.routing.engine import PendingTimer
from services.routing.entrypoints import schemas
from services.routing.entrypoints.http import CASE_READERS, case_view, visible_case
from services.routing.service_layer import timers as service

# Who may fire or move a timer: those who answer for the mall's deadlines, and the administrator.
TIMER_OPERATORS = (Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.ADMIN)

timers = Blueprint(
    "timers",
    __name__,
    url_prefix="/cases",
    description="A case's pending timers; operators fire one now or move its due time.",
)


def _routing():
    return current_app.extensions["routing"]


@timers.route("/<uuid:case_id>/timers")
@require_roles(*CASE_READERS, Role.ADMIN)
@timers.response(200, schemas.TimerOut(many=True))
@timers.alt_response(404, response="NOT_FOUND")
def list_timers(case_id):
    """The timers the case waits on, soonest first: element, name, when each falls due."""
    routing = _routing()
    with routing.reading() as uow:
        visible_case(uow, case_id, reading=True)
        case = uow.cases.get(current_identity().mall_id, str(case_id))
        names = _names(uow, case.process_version_id)
        return [_out(timer, names) for timer in service.pending_timers(uow, routing.context, case)]


@timers.route("/<uuid:case_id>/timers/<uuid:timer_id>/fire", methods=["POST"])
@require_roles(*TIMER_OPERATORS)
@timers.arguments(schemas.TimerFireIn())
@timers.response(200, schemas.TimerMovedOut)
@timers.alt_response(404, response="NOT_FOUND")
@timers.alt_response(409, response="CONFLICT")
def fire_timer(data, case_id, timer_id):
    """Fire the timer now, as if it had fallen due: the case moves on exactly as it would then."""
    return _move(case_id, timer_id, None, data["reason"])


@timers.route("/<uuid:case_id>/timers/<uuid:timer_id>", methods=["PATCH"])
@require_roles(*TIMER_OPERATORS)
@timers.arguments(schemas.TimerMoveIn())
@timers.response(200, schemas.TimerMovedOut)
@timers.alt_response(404, response="NOT_FOUND")
@timers.alt_response(409, response="CONFLICT")
def move_timer(data, case_id, timer_id):
    """Set when the timer falls due; a time not later than now fires it at once."""
    return _move(case_id, timer_id, _aware(data["due_at"]), data["reason"])


def _move(case_id, timer_id, due_at: datetime | None, reason: str) -> dict:
    identity = current_identity()
    role = next(role for role in TIMER_OPERATORS if role in identity.roles)
    command = MoveTimer(str(case_id), str(timer_id), due_at, reason.strip(), identity.subject, role)
    with _routing().reading() as uow:
        names = _names(uow, visible_case(uow, case_id).process_version_id)
    timer, fired = _routing().bus.handle(command)
    return {"timer": _out(timer, names), "fired": fired, "case": case_view(case_id)}


def _names(uow, process_version_id: str) -> dict[str, dict[str, str]]:
    """Each element's name in every language its diagram names it in (parsed diagrams are kept)."""
    return _routing().context.diagrams.get(process_version_id, uow.processes.get).names


def _out(timer: PendingTimer, names: dict[str, dict[str, str]]) -> dict:
    """A timer as the API shows it: with its names, as a task comes with its titles."""
    return {**vars(timer), "names": names.get(timer.element_id, {})}


def _aware(moment: datetime) -> datetime:
    """A time written without an offset is the mall's local time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_routing().settings.zone)

"""What operators and designers repair with: the cases stopped by incidents, and moving running cases
to another version of their process (one, or every unfinished case of a version)."""

from __future__ import annotations

from flask import current_app

from services.common.errors import Conflict, NotFound
from services.common.identity.model import Role
from services.common.web import Blueprint, current_identity, require_roles
from services.routing.domain.commands import MigrateCase
from services.routing.entrypoints import schemas
from services.routing.entrypoints.http import visible_case
from services.routing.service_layer.migrations import Migration

REPAIRERS = (Role.OPERATIONS_MANAGER, Role.STORE_MANAGER, Role.PROCESS_DESIGNER, Role.ADMIN)
MOVERS = (Role.OPERATIONS_MANAGER, Role.PROCESS_DESIGNER, Role.ADMIN)

repairs = Blueprint(
    "repairs",
    __name__,
    url_prefix="",
    description="Cases stopped by incidents; moving running cases between versions.",
)


def _routing():
    return current_app.extensions["routing"]


@repairs.route("/incidents")
@require_roles(*REPAIRERS)
@repairs.response(200, schemas.IncidentListed(many=True))
def list_incidents():
    """Every case of the mall stopped by an incident, oldest first: the error and the element where it
    stopped. Retry with POST /cases/{id}/retry, after moving the case to a fixed version if need be."""
    with _routing().reading() as uow:
        return uow.cases.open_incidents(current_identity().mall_id)


@repairs.route("/cases/<uuid:case_id>/migrate", methods=["POST"])
@require_roles(*MOVERS)
@repairs.arguments(schemas.MigrateIn())
@repairs.response(200, schemas.MigrationOut)
@repairs.alt_response(404, response="NOT_FOUND")
@repairs.alt_response(409, response="CONFLICT")
def migrate_case(data, case_id):
    """Move the case to another version of its process, keeping its tasks, data and timers; refused
    (409) naming each element it holds that the version lacks. `dry_run` only says."""
    with _routing().reading() as uow:
        visible_case(uow, case_id)
    outcome = _routing().bus.handle(_command(str(case_id), data))
    if outcome.refused and not data["dry_run"]:
        raise Conflict(
            f"case {outcome.number} cannot move to version {outcome.to_version}: {_words(outcome)}"
        )
    return _out(outcome)


@repairs.route("/processes/<string:process_key>/<int:version>/migrate", methods=["POST"])
@require_roles(*MOVERS)
@repairs.arguments(schemas.MigrateIn())
@repairs.response(200, schemas.VersionMigrationOut)
@repairs.alt_response(404, response="NOT_FOUND")
def migrate_version(data, process_key, version):
    """Move every unfinished case of this version to another, each in its own transaction; those that
    cannot move stay, each listed with the elements the target lacks. `dry_run` counts only."""
    routing = _routing()
    with routing.reading() as uow:
        source = uow.processes.find(current_identity().mall_id, process_key, version)
        if source is None:
            raise NotFound(f"no version {version} of {process_key}")
        case_ids = uow.cases.unfinished_of_version(source.id)
    outcomes = [routing.bus.handle(_command(case_id, data)) for case_id in case_ids]
    movable = [outcome for outcome in outcomes if not outcome.refused]
    return {
        "from_version": version,
        "to_version": data["to_version"],
        "dry_run": data["dry_run"],
        "cases": len(outcomes),
        "movable": len(movable),
        "moved": sum(o.moved for o in outcomes),
        "refused": [_out(outcome) for outcome in outcomes if outcome.refused],
        # moved (or movable) but still stopped by an incident: each waits for its retry
        "to_retry": [_out(outcome) for outcome in outcomes if outcome.stopped and not outcome.refused],
    }


def _command(case_id: str, data: dict) -> MigrateCase:
    identity = current_identity()
    role = next(role for role in MOVERS if role in identity.roles)
    return MigrateCase(
        case_id, data["to_version"], data["reason"].strip(), identity.subject, role, data["dry_run"]
    )


def _out(outcome: Migration) -> dict:
    missing = [
        {"element_id": element, "waiting": waiting} for element, waiting in sorted(outcome.missing.items())
    ]
    return {
        "case_id": outcome.case_id,
        "number": outcome.number,
        "from_version": outcome.from_version,
        "to_version": outcome.to_version,
        "moved": outcome.moved,
        "missing": missing,
    }


def _words(outcome: Migration) -> str:
    waits = [element for element, waiting in sorted(outcome.missing.items()) if waiting]
    passed = [element for element, waiting in sorted(outcome.missing.items()) if not waiting]
    parts = [f"it waits at {', '.join(waits)}" for _ in waits[:1]] + [
        f"it holds {', '.join(passed)}" for _ in passed[:1]
    ]
    return "; ".join(parts) + f", which version {outcome.to_version} does not have"

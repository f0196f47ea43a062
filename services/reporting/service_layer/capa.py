"""Updating a CAPA record: the operations manager's cause, action, owner, due date and verification."""

from __future__ import annotations

from typing import Any

from services.common.errors import Conflict, InvalidInput, NotFound
from services.reporting.domain.capa import CapaRecord, CapaStatus, check_update, next_status
from services.reporting.domain.commands import UpdateCapa
from services.reporting.service_layer.context import Context
from services.reporting.service_layer.unit_of_work import UnitOfWork


def update_capa(command: UpdateCapa, uow: UnitOfWork, context: Context) -> dict[str, Any]:
    if not command.changes and command.status is None:
        raise InvalidInput("nothing to update", {"status": ["give a status or at least one field"]})
    with uow:
        row = uow.capa.get(command.mall_id, command.capa_id, for_update=True)
        if row is None:
            raise NotFound(f"no CAPA record {command.capa_id}")
        if command.expected_version is not None and command.expected_version != row["version"]:
            raise Conflict(
                f"the record changed since version {command.expected_version} (now {row['version']})"
            )
        if row["status"] == CapaStatus.VERIFIED:
            raise Conflict("the record is verified and closed; a new recurrence opens a new one")
        current = CapaRecord(**{name: row[name] for name in CapaRecord.__dataclass_fields__})
        errors = check_update(current, command.changes, command.status)
        if errors:
            raise InvalidInput("the CAPA record cannot be updated so: " + ", ".join(errors), errors)
        status = next_status(current, command.changes, command.status)
        return uow.capa.update(
            command.capa_id, command.changes, status, command.actor_id, context.clock.now()
        )

"""Updating a CAPA record: the operations manager's cause, action, owner, due date and verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from services.common.errors import Conflict, InvalidInput, NotFound
from services.reporting.adapters.capa import CapaStore
from services.reporting.domain.capa import CapaRecord, CapaStatus, check_update, next_status
from services.reporting.domain.commands import UpdateCapa


def update_capa(conn: psycopg.Connection, mall_id: str, command: UpdateCapa, now: datetime) -> dict[str, Any]:
    if not command.changes and command.status is None:
        raise InvalidInput("nothing to update", {"status": ["give a status or at least one field"]})
    store = CapaStore(conn)
    row = store.get(mall_id, command.capa_id, for_update=True)
    if row is None:
        raise NotFound(f"no CAPA record {command.capa_id}")
    if command.expected_version is not None and command.expected_version != row["version"]:
        raise Conflict(f"the record changed since version {command.expected_version} (now {row['version']})")
    if row["status"] == CapaStatus.VERIFIED:
        raise Conflict("the record is verified and closed; a new recurrence opens a new one")
    current = CapaRecord(**{name: row[name] for name in CapaRecord.__dataclass_fields__})
    errors = check_update(current, command.changes, command.status)
    if errors:
        raise InvalidInput("the CAPA record cannot be updated so: " + ", ".join(errors), errors)
    status = next_status(current, command.changes, command.status)
    return store.update(command.capa_id, command.changes, status, command.actor_id, now)

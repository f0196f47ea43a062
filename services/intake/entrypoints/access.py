"""Who may do what in intake's HTTP API."""

from __future__ import annotations

import psycopg

from services.common.identity.model import PROCESS_ROLES, Identity, Role
from services.intake.adapters.holders import departments_told
from services.intake.domain.model import Complaint

READ_ROLES = (*sorted(PROCESS_ROLES), Role.SERVICE)
DESK = (Role.SERVICE_DESK,)
REFERENCE_EDITORS = (Role.ADMIN, Role.OPERATIONS_MANAGER)
PUBLIC_ACTOR = "public-web-form"


def may_read(conn: psycopg.Connection, identity: Identity, complaint: Complaint | None) -> bool:
    """Whether the caller may read the complaint: within its floors or departments, or one of its
    departments was told of the case by a notice (asked to act on another's complaint)."""
    if complaint is None:
        return False
    return identity.can_see(complaint.floor, complaint.department) or (
        bool(identity.departments) and identity.told_of(departments_told(conn, complaint.id))
    )

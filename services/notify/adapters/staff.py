"""Staff members from the shared `identity` schema: who holds a role, with their scopes."""

from __future__ import annotations

import psycopg

from services.notify.domain.model import StaffMember


class StaffDirectory:
    """Reads `identity.users`, which every service shares; notify never writes it."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def holders(self, mall_id: str, role: str) -> list[StaffMember]:
        """Active users holding `role` (scopes are checked by the domain: see recipients.holds)."""
        rows = self.conn.execute(
            "SELECT username, display_name, roles, floors, departments FROM identity.users"
            " WHERE mall_id = %s AND active AND %s = ANY(roles) ORDER BY username",
            (mall_id, role),
        ).fetchall()
        return [
            StaffMember(
                username=row["username"],
                display_name=row["display_name"],
                roles=tuple(row["roles"]),
                floors=tuple(row["floors"]),
                departments=tuple(row["departments"]),
            )
            for row in rows
        ]

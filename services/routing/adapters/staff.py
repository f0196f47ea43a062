"""Staff members from the shared `identity` schema: who a task may be given to."""

from __future__ import annotations

import psycopg

from services.common.identity.model import Identity


class StaffDirectory:
    """Reads `identity.users`, which every service shares; routing never writes it."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def active(self, mall_id: str, username: str) -> Identity | None:
        """The active staff member of the mall with this username, as a token would describe them."""
        row = self.conn.execute(
            "SELECT username, display_name, roles, floors, departments FROM identity.users"
            " WHERE mall_id = %s AND username = %s AND active",
            (mall_id, username),
        ).fetchone()
        if row is None:
            return None
        return Identity(
            subject=row["username"],
            roles=frozenset(row["roles"]),
            mall_id=mall_id,
            floors=frozenset(row["floors"]),
            departments=frozenset(row["departments"]),
            name=row["display_name"],
        )

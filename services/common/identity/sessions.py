"""Server-side login sessions (schema `identity`): the cookie holds a random id, the row the rest.

Only the id's SHA-256 is stored, so a copy of the table gives no one a session. A session ends at
logout, when its user is deactivated or gets a new password, after its lifetime, or after being
idle too long; each of these is a row deleted or a time compared, so revocation is immediate.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.identity.users import User, user_from_row

# last_seen_at is written at most this often, so reading a page does not write a row each time.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SessionPolicy:
    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(hours=1)


@dataclass
class StoredSession:
    sid: str
    data: dict[str, Any]
    user: User | None
    expires_at: datetime


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionStore:
    """Create, load, save and revoke sessions."""

    def __init__(self, pool: ConnectionPool, clock: Clock, policy: SessionPolicy):
        self.pool = pool
        self.clock = clock
        self.policy = policy

    def create(self, mall_id: str, user_id: str | None, data: dict[str, Any]) -> StoredSession:
        sid = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + self.policy.lifetime
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO identity.sessions (id_hash, mall_id, user_id, data, created_at, last_seen_at,"
                " expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (_digest(sid), mall_id, user_id, Jsonb(data), now, now, expires),
            )
        user = None
        if user_id:
            with self.pool.connection() as conn:
                user = user_from_row(
                    conn.execute("SELECT * FROM identity.users WHERE id = %s", (user_id,)).fetchone()
                )
        return StoredSession(sid, dict(data), user, expires)

    def load(self, mall_id: str, sid: str) -> StoredSession | None:
        """The live session with this id (and its active user), or None."""
        now = self.clock.now()
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT s.data AS session_data, s.last_seen_at, s.expires_at, s.user_id, u.*"
                " FROM identity.sessions s LEFT JOIN identity.users u ON u.id = s.user_id"
                " WHERE s.id_hash = %s AND s.mall_id = %s AND s.expires_at > %s AND s.last_seen_at > %s",
                (_digest(sid), mall_id, now, now - self.policy.idle),
            ).fetchone()
            if row is None or (row["user_id"] is not None and not row["active"]):
                return None
            if now - row["last_seen_at"] >= TOUCH_EVERY:
                conn.execute(
                    "UPDATE identity.sessions SET last_seen_at = %s WHERE id_hash = %s", (now, _digest(sid))
                )
        user = user_from_row(row) if row["user_id"] is not None else None
        return StoredSession(sid, dict(row["session_data"]), user, row["expires_at"])

    def save(self, sid: str, data: dict[str, Any]) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE identity.sessions SET data = %s WHERE id_hash = %s",
                (Jsonb(json.loads(json.dumps(data, default=str))), _digest(sid)),
            )

    def delete(self, sid: str) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM identity.sessions WHERE id_hash = %s", (_digest(sid),))

    def revoke_user(self, user_id: str) -> int:
        """End every session of a user; how many there were."""
        with self.pool.connection() as conn:
            return conn.execute("DELETE FROM identity.sessions WHERE user_id = %s", (user_id,)).rowcount

    def purge_expired(self) -> int:
        now = self.clock.now()
        with self.pool.connection() as conn:
            return conn.execute(
                "DELETE FROM identity.sessions WHERE expires_at <= %s OR last_seen_at <= %s",
                (now, now - self.policy.idle),
            ).rowcount

    def count_for_user(self, user_id: str) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM identity.sessions WHERE user_id = %s", (user_id,)
            ).fetchone()
        return row["n"]

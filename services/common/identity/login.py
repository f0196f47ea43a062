"""Checking a password at login, with the account locked after repeated failures."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.errors import Unauthorized
from services.common.identity.users import PASSWORDS, User, user_from_row


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so a wrong name costs as long as a wrong password."""
    return PASSWORDS.hash("no such user, but the same work")


class LoginRefused(Unauthorized):
    """Wrong name or password, an inactive user, or a locked account (`locked_until` is set)."""

    def __init__(self, message: str, locked_until: datetime | None = None):
        super().__init__(message)
        self.locked_until = locked_until


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


class Authenticator:
    """Checks a user's password; counts failures in `identity.users` and locks the account."""

    def __init__(self, pool: ConnectionPool, clock: Clock, policy: LockoutPolicy):
        self.pool = pool
        self.clock = clock
        self.policy = policy

    def login(self, mall_id: str, username: str, password: str) -> User:
        """The user whose password this is; LoginRefused otherwise (same message for every cause
        but a lock, so the form does not tell which names exist)."""
        now = self.clock.now()
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT * FROM identity.users WHERE mall_id = %s AND username = %s FOR UPDATE",
                (mall_id, username),
            ).fetchone()
            if row is None or not row["active"] or row["password_hash"] is None:
                _verify(_dummy_hash(), password)
                raise LoginRefused("wrong username or password")
            if row["locked_until"] is not None and row["locked_until"] > now:
                raise LoginRefused("the account is locked after too many failed logins", row["locked_until"])
            if not _verify(row["password_hash"], password):
                locked_until = self._count_failure(conn, row, now)
                conn.commit()
                if locked_until:
                    raise LoginRefused("the account is locked after too many failed logins", locked_until)
                raise LoginRefused("wrong username or password")
            rehash = PASSWORDS.hash(password) if PASSWORDS.check_needs_rehash(row["password_hash"]) else None
            updated = conn.execute(
                "UPDATE identity.users SET failed_logins = 0, locked_until = NULL, last_login_at = %s,"
                " password_hash = coalesce(%s, password_hash) WHERE id = %s RETURNING *",
                (now, rehash, row["id"]),
            ).fetchone()
        return user_from_row(updated)

    def _count_failure(self, conn, row: dict, now: datetime) -> datetime | None:
        failures = row["failed_logins"] + 1
        locked_until = now + self.policy.lock_for if failures >= self.policy.max_failures else None
        conn.execute(
            "UPDATE identity.users SET failed_logins = %s, locked_until = %s WHERE id = %s",
            (0 if locked_until else failures, locked_until, row["id"]),
        )
        return locked_until

    def unlock(self, user_id: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE identity.users SET failed_logins = 0, locked_until = NULL WHERE id = %s", (user_id,)
            )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False

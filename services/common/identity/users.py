"""The staff user store (schema `identity`), behind a small repository."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from argon2 import PasswordHasher
from psycopg_pool import ConnectionPool

from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.identity.model import ROLES, Identity, Role

PASSWORDS = PasswordHasher()  # one set of argon2 parameters for hashing and checking


@dataclass(frozen=True)
class User:
    id: str
    mall_id: str
    username: str
    display_name: str | None
    roles: tuple[str, ...]
    floors: tuple[str, ...]
    departments: tuple[str, ...]
    active: bool
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    token_version: int = 1  # see services/common/identity/revocation.py

    def identity(self) -> Identity:
        """What a token of this user carries: a later change to the user revokes it."""
        return Identity(
            subject=self.username,
            roles=frozenset(self.roles),
            mall_id=self.mall_id,
            floors=frozenset(self.floors),
            departments=frozenset(self.departments),
            name=self.display_name,
            user_id=self.id,
            token_version=self.token_version,
        )


def check_roles_and_scopes(roles: Iterable[str], floors: Iterable[str], departments: Iterable[str]) -> None:
    """A floor supervisor needs floors, a department manager a department; roles must exist."""
    roles, floors, departments = list(roles), list(floors), list(departments)
    unknown = [role for role in roles if role not in ROLES or role == Role.SERVICE]
    if not roles or unknown:
        raise InvalidInput("unknown or missing role", {"roles": [f"choose from {', '.join(ROLES[:-1])}"]})
    if Role.FLOOR_SUPERVISOR in roles and not floors:
        raise InvalidInput("a floor supervisor needs floors", {"floors": ["at least one floor"]})
    if Role.DEPARTMENT_MANAGER in roles and not departments:
        raise InvalidInput("a department manager needs a department", {"departments": ["at least one"]})
    # A scope widens what its holder sees (Identity.can_see): floors are a floor supervisor's, a
    # department a department manager's, and neither is given to anyone else.
    if floors and Role.FLOOR_SUPERVISOR not in roles:
        raise InvalidInput(
            "floors are only a floor supervisor's", {"floors": ["only a floor supervisor has floors"]}
        )
    if departments and Role.DEPARTMENT_MANAGER not in roles:
        raise InvalidInput(
            "departments are only a department manager's",
            {"departments": ["only a department manager has departments"]},
        )


class UserStore:
    """Create, find and authenticate staff users."""

    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    def create(
        self,
        mall_id: str,
        username: str,
        roles,
        floors=(),
        departments=(),
        display_name: str | None = None,
        password: str | None = None,
    ) -> User:
        check_roles_and_scopes(roles, floors, departments)
        if password:
            check_password_strength(password)
        password_hash = PASSWORDS.hash(password) if password else None
        try:
            with self.pool.connection() as conn:
                row = conn.execute(
                    "INSERT INTO identity.users (id, mall_id, username, display_name, roles, floors,"
                    " departments, password_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                    (
                        uuid.uuid4(),
                        mall_id,
                        username,
                        display_name,
                        list(roles),
                        list(floors),
                        list(departments),
                        password_hash,
                    ),
                ).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"user {username!r} already exists") from exc
        return user_from_row(row)

    def get(self, mall_id: str, username: str) -> User:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT * FROM identity.users WHERE mall_id = %s AND username = %s", (mall_id, username)
            ).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}")
        return user_from_row(row)

    def list(self, mall_id: str) -> list[User]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM identity.users WHERE mall_id = %s ORDER BY username", (mall_id,)
            ).fetchall()
        return [user_from_row(row) for row in rows]

    def get_by_id(self, user_id: str) -> User | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT * FROM identity.users WHERE id = %s", (user_id,)).fetchone()
        return user_from_row(row) if row else None

    def update(self, mall_id: str, username: str, changes: dict) -> User:
        """Change display name, roles, scopes or `active`; the result must still be a valid user.

        Deactivating a user ends its console sessions in the same transaction. A change of roles,
        scopes or `active` revokes the user's bearer tokens (the table's trigger moves its version).
        """
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise InvalidInput("unknown fields", {name: ["cannot be changed"] for name in sorted(unknown)})
        current = self.get(mall_id, username)
        merged = {name: changes.get(name, getattr(current, name)) for name in UPDATABLE}
        check_roles_and_scopes(merged["roles"], merged["floors"], merged["departments"])
        with self.pool.connection() as conn:
            row = conn.execute(
                "UPDATE identity.users SET display_name = %s, roles = %s, floors = %s, departments = %s,"
                " active = %s, updated_at = now() WHERE id = %s RETURNING *",
                (
                    merged["display_name"],
                    list(merged["roles"]),
                    list(merged["floors"]),
                    list(merged["departments"]),
                    merged["active"],
                    current.id,
                ),
            ).fetchone()
            if not merged["active"]:
                conn.execute("DELETE FROM identity.sessions WHERE user_id = %s", (current.id,))
        return user_from_row(row)

    def set_password(self, mall_id: str, username: str, password: str) -> User:
        """A new password (argon2 hash); clears the lockout and ends the user's other sessions.

        Replacing a password also revokes the user's bearer tokens: whoever knew the old one may
        have logged in for a token. A first password (none before) revokes nothing.
        """
        check_password_strength(password)
        current = self.get(mall_id, username)
        with self.pool.connection() as conn:
            row = conn.execute(
                "UPDATE identity.users SET password_hash = %s, failed_logins = 0, locked_until = NULL,"
                " token_version = token_version + (password_hash IS NOT NULL)::int, updated_at = now()"
                " WHERE id = %s RETURNING *",
                (PASSWORDS.hash(password), current.id),
            ).fetchone()
            conn.execute("DELETE FROM identity.sessions WHERE user_id = %s", (current.id,))
        return user_from_row(row)

    def give_password(self, mall_id: str, usernames: list[str], password: str) -> list[str]:
        """The same first password for each of these users who has none yet (the demo staff, who
        share the demo password): hashed once, where one hash each cost argon2's work per person on
        every start of a fresh demo. Returns who got it."""
        check_password_strength(password)
        with self.pool.connection() as conn:
            rows = conn.execute(
                "UPDATE identity.users SET password_hash = %s, failed_logins = 0, locked_until = NULL,"
                " updated_at = now()"
                " WHERE mall_id = %s AND username = ANY(%s) AND password_hash IS NULL RETURNING username",
                (PASSWORDS.hash(password), mall_id, usernames),
            ).fetchall()
        return [row["username"] for row in rows]

    def revoke_tokens(self, mall_id: str, username: str) -> User:
        """Every bearer token issued to the user so far stops working (within TOKEN_CHECK_SECONDS)."""
        current = self.get(mall_id, username)
        with self.pool.connection() as conn:
            row = conn.execute(
                "UPDATE identity.users SET token_version = token_version + 1, updated_at = now()"
                " WHERE id = %s RETURNING *",
                (current.id,),
            ).fetchone()
        return user_from_row(row)


UPDATABLE = frozenset({"display_name", "roles", "floors", "departments", "active"})
MIN_PASSWORD_LENGTH = 10


def check_password_strength(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH or len(password) > 200:
        raise InvalidInput(
            "password too short or too long",
            {"password": [f"between {MIN_PASSWORD_LENGTH} and 200 characters"]},
        )
    if password.strip() != password or len(set(password)) < 4:
        raise InvalidInput(
            "password too simple", {"password": ["no leading or trailing spaces, 4 different characters"]}
        )


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def user_from_row(row: dict) -> User:
    return User(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=tuple(row["roles"]),
        floors=tuple(row["floors"]),
        departments=tuple(row["departments"]),
        active=row["active"],
        locked_until=row.get("locked_until"),
        last_login_at=row.get("last_login_at"),
        token_version=row.get("token_version", 1),
    )

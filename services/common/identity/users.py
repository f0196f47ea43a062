"""The staff user store (schema `identity`), behind a small repository."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from psycopg_pool import ConnectionPool

from services.common.errors import Conflict, InvalidInput, NotFound
from services.common.identity.model import ROLES, SCOPED_ROLES, Identity, Role

_hasher = PasswordHasher()


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

    def identity(self) -> Identity:
        return Identity(
            subject=self.username,
            roles=frozenset(self.roles),
            mall_id=self.mall_id,
            floors=frozenset(self.floors),
            departments=frozenset(self.departments),
            name=self.display_name,
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
    if (floors or departments) and not SCOPED_ROLES & set(roles):
        raise InvalidInput("scopes only apply to scoped roles", {"floors": ["no scoped role given"]})


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
        password_hash = _hasher.hash(password) if password else None
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
        return _user(row)

    def get(self, mall_id: str, username: str) -> User:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT * FROM identity.users WHERE mall_id = %s AND username = %s", (mall_id, username)
            ).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}")
        return _user(row)

    def list(self, mall_id: str) -> list[User]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM identity.users WHERE mall_id = %s ORDER BY username", (mall_id,)
            ).fetchall()
        return [_user(row) for row in rows]

    def check_password(self, mall_id: str, username: str, password: str) -> User | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT * FROM identity.users WHERE mall_id = %s AND username = %s AND active",
                (mall_id, username),
            ).fetchone()
        if row is None or row["password_hash"] is None:
            return None
        try:
            _hasher.verify(row["password_hash"], password)
        except VerifyMismatchError:
            return None
        return _user(row)


def _user(row: dict) -> User:
    return User(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        username=row["username"],
        display_name=row["display_name"],
        roles=tuple(row["roles"]),
        floors=tuple(row["floors"]),
        departments=tuple(row["departments"]),
        active=row["active"],
    )

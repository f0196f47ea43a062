"""Who is calling: roles (PROCESS.md's six plus designer and admin) and their scopes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    SERVICE_DESK = "service_desk"
    FLOOR_SUPERVISOR = "floor_supervisor"
    DEPARTMENT_MANAGER = "department_manager"
    OPERATIONS_MANAGER = "operations_manager"
    DEPUTY_STORE_MANAGER = "deputy_store_manager"
    STORE_MANAGER = "store_manager"
    PROCESS_DESIGNER = "process_designer"
    ADMIN = "admin"
    SERVICE = "service"  # another service calling with its own token


ROLES = tuple(role.value for role in Role)

# The six roles of PROCESS.md: each is a queue of tasks and a lane of the diagram.
PROCESS_ROLES = frozenset(
    {
        Role.SERVICE_DESK,
        Role.FLOOR_SUPERVISOR,
        Role.DEPARTMENT_MANAGER,
        Role.OPERATIONS_MANAGER,
        Role.DEPUTY_STORE_MANAGER,
        Role.STORE_MANAGER,
    }
)

# Roles whose sight is limited by scope; every other staff role sees the whole mall.
SCOPED_ROLES = {Role.FLOOR_SUPERVISOR, Role.DEPARTMENT_MANAGER}


@dataclass(frozen=True)
class Identity:
    """The authenticated caller as a token describes it."""

    subject: str
    roles: frozenset[str]
    mall_id: str
    floors: frozenset[str] = field(default_factory=frozenset)
    departments: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None
    # For a staff user's token: whose it is and the user's token version when it was issued, so a
    # change to the user since revokes it (services/common/identity/revocation.py).
    user_id: str | None = None
    token_version: int | None = None

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def sees_whole_mall(self) -> bool:
        """True unless every role held is limited to floors or departments."""
        return any(role not in SCOPED_ROLES for role in self.roles)

    @property
    def scope(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(floors, departments) a list must keep to, or None when the caller sees the whole mall."""
        if self.sees_whole_mall:
            return None
        return tuple(self.floors), tuple(self.departments)

    def can_see(self, floor: str | None, department: str | None) -> bool:
        """Whether a record on this floor / of this department is within the caller's scope."""
        if self.sees_whole_mall:
            return True
        return (floor is not None and floor in self.floors) or (
            department is not None and department in self.departments
        )

    def told_of(self, departments_told: Iterable[str]) -> bool:
        """Whether notices of a case told one of the caller's departments of it: a department asked
        to act on another's complaint reads that case (and acts on it through the desk)."""
        return any(name in self.departments for name in departments_told)

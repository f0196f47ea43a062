"""Who sees a case's customer as written: the desk, the services, and whoever holds the case.

PROCESS.md: personal data is shown masked outside the case's handlers. A handler is whoever holds an
open task of the case (its queue within its floors or departments, or its assignee); the desk talks
to the customer and the services pass the record on, so both always see it. Intake knows the holders
from routing's task events, routing from its own task rows: both decide with this one rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.common.identity.model import SCOPED_ROLES, Identity, Role

# Roles that talk to the customer (or pass the record on) and so see contact details in full.
UNMASKED_ROLES = (Role.SERVICE_DESK, Role.SERVICE)


@dataclass(frozen=True)
class Holder:
    """An open task of a case: its queue, scope and assignee."""

    queue: str
    floor: str | None
    department: str | None
    assignee: str | None

    def held_by(self, viewer: Identity) -> bool:
        """The viewer works this task's queue, within its floors or departments for a scoped role."""
        if self.assignee is not None and self.assignee == viewer.subject:
            return True
        if self.queue not in viewer.roles:
            return False
        if self.queue not in SCOPED_ROLES:
            return True
        return (self.floor is not None and self.floor in viewer.floors) or (
            self.department is not None and self.department in viewer.departments
        )


def sees_customer(viewer: Identity, holders: Iterable[Holder]) -> bool:
    """Whether `viewer` sees the case's customer, and the free text about the case, as written."""
    return viewer.has_any(*UNMASKED_ROLES) or any(holder.held_by(viewer) for holder in holders)

"""Cases and the human tasks mirrored from their workflows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.common.identity.model import PROCESS_ROLES, Identity, Role

# The task queues: one per role of PROCESS.md; lanes and candidate groups must name one of them.
QUEUES = PROCESS_ROLES
# Added to a completed user task's data: the queue it was completed in (bpmn/README.md).
COMPLETED_IN_QUEUE = "completed_in_queue"


class TaskState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATES = (TaskState.OPEN, TaskState.CLAIMED)


class CaseStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    INCIDENT = "incident"


@dataclass(frozen=True)
class Task:
    """A ready user task as the queues show it."""

    id: str
    case_id: str
    mall_id: str
    queue: str
    element_id: str
    title: str
    number: str
    state: TaskState
    created_at: datetime
    form: list[dict[str, Any]] = field(default_factory=list)
    floor: str | None = None
    department: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None
    instructions: str | None = None  # what the diagram tells the person to do
    titles: dict[str, str] = field(default_factory=dict)  # the title in each language (zh-CN, en)
    closed_at: datetime | None = None
    closed_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def workable_by(self, person: Identity) -> bool:
        """Whether `person` works this task's queue where the task is (a floor supervisor its floors)."""
        return self.queue in person.roles and person.can_see(self.floor, self.department)


def assignment_refused(task: Task, colleague: Identity | None) -> str | None:
    """Why the task cannot be given to this colleague (None: it can): they must work its queue there."""
    if colleague is None:
        return "not an active staff member of this mall"
    if task.queue not in colleague.roles:
        return f"does not hold the {task.queue} queue"
    if not task.workable_by(colleague):
        where = {Role.FLOOR_SUPERVISOR: task.floor, Role.DEPARTMENT_MANAGER: task.department}.get(task.queue)
        return f"does not work the {task.queue} queue for {where}"
    return None

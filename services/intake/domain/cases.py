"""What intake keeps of the cases routing runs: who holds each task, and the stage a case is at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class TaskHolder:
    """One task of a case as its latest event left it: open (created, claimed) or done."""

    task_id: str
    complaint_id: str
    mall_id: str
    queue: str
    floor: str | None
    department: str | None
    assignee: str | None
    open: bool
    event_at: datetime
    due_at: str | None


@dataclass(frozen=True)
class StageChange:
    """A case's new stage (handling, replied, closed) or, keeping the stage, a new agreed reply date."""

    complaint_id: str
    mall_id: str
    stage: str
    postponed_to: date | None
    event_at: datetime
    keeps_stage: bool

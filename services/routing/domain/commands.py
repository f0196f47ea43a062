"""What routing can be asked to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.common.identity.model import Identity


@dataclass(frozen=True)
class DeployProcess:
    """Deploy a new version of a diagram (BPMN plus the DMN and JSON-schema form files it references)."""

    bpmn_xml: str
    dmn_xml: dict[str, str]
    actor_id: str
    note: str | None = None
    bpmn_name: str = "diagram.bpmn"
    forms: dict[str, str] = field(default_factory=dict)
    language: str = "en"  # of the designer's messages: zh-CN or en
    called: dict[str, str] = field(
        default_factory=dict
    )  # deployed processes it calls: key -> BPMN (see handlers)


@dataclass(frozen=True)
class ActivateProcess:
    """Make a deployed version the one new cases of its process start (a rollback, say)."""

    process_key: str
    version: int
    actor_id: str
    reason: str


@dataclass(frozen=True)
class CompleteTask:
    task_id: str
    data: dict[str, Any]
    actor_id: str
    actor_roles: frozenset[str] = field(default_factory=frozenset)
    # A staff member's request: a task outside their queues and scope is answered as if it did not
    # exist (the same read that locks it, so the task is read once).
    worked_by: Identity | None = None


@dataclass(frozen=True)
class AssignTask:
    """Claim (assignee = the caller), unclaim (None) or reassign (another person) a task."""

    task_id: str
    assignee: str | None
    actor_id: str
    actor_roles: frozenset[str] = field(default_factory=frozenset)
    worked_by: Identity | None = None  # as CompleteTask's


@dataclass(frozen=True)
class DeliverMessage:
    """A message from outside for a case (the merchant's answer, the customer's callback answer).

    Delivered to the catch event waiting for `name`, or kept until the case reaches it (for `ttl`
    seconds). The idempotency key makes a repeated message count once.
    """

    case_id: str
    name: str
    payload: dict[str, Any]
    idempotency_key: str
    actor_id: str
    ttl_seconds: int = 7 * 24 * 3600
    actor_role: str | None = None  # as the case's timeline names the sender


@dataclass(frozen=True)
class MoveTimer:
    """Fire one of a case's pending timers now (`due_at` None or not later than now) or make it fall
    due at `due_at`; an operator's action, with the reason kept on the case's timeline."""

    case_id: str
    timer_id: str
    due_at: datetime | None
    reason: str
    actor_id: str
    actor_role: str


@dataclass(frozen=True)
class MigrateCase:
    """Move a running case (or one stopped by an incident) to another version of its process."""

    case_id: str
    to_version: int
    reason: str
    actor_id: str
    actor_role: str
    dry_run: bool = False


@dataclass(frozen=True)
class ProveProcess:
    """Validate and prove a diagram without keeping it: the designer's dry run of `deploy`."""

    deploy: DeployProcess


@dataclass(frozen=True)
class RetryCase:
    """Run a case's pending steps again after an incident, with corrected workflow data if given."""

    case_id: str
    data: dict[str, Any]
    actor_id: str
    actor_role: str | None


@dataclass(frozen=True)
class FireDueTimers:
    """Advance up to `limit` cases whose timer is due (the timer scheduler's one command)."""

    limit: int = 50

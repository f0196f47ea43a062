"""The task table: ready user tasks mirrored from the workflows, listed without loading them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from services.common.listing import Where
from services.routing.domain.model import Task, TaskState


@dataclass(frozen=True)
class TaskQuery:
    mall_id: str
    queues: tuple[str, ...]
    states: tuple[str, ...] = (TaskState.OPEN, TaskState.CLAIMED)
    limit: int = 50
    after: tuple[datetime, str] | None = None
    assignee: str | None = None
    number: str | None = None
    scope_floors: tuple[str, ...] | None = None
    scope_departments: tuple[str, ...] | None = None


class TaskRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        self._deferred: list[tuple[str, tuple]] | None = None  # a deferred block's changes

    def add(self, task: Task) -> None:
        """A new task row; in a `deferred` block, written at its end."""
        self._write(
            "INSERT INTO routing.tasks (id, case_id, mall_id, queue, element_id, title, number, floor,"
            " department, form, state, assignee, due_at, created_at, instructions, titles)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                task.id,
                task.case_id,
                task.mall_id,
                task.queue,
                task.element_id,
                task.title,
                task.number,
                task.floor,
                task.department,
                json.dumps(task.form, ensure_ascii=False),
                task.state.value,
                task.assignee,
                task.due_at,
                task.created_at,
                task.instructions,
                json.dumps(task.titles, ensure_ascii=False),
            ),
        )

    def get(self, mall_id: str, task_id: str, for_update: bool = False) -> Task | None:
        query = "SELECT * FROM routing.tasks WHERE mall_id = %s AND id = %s"
        row = self.conn.execute(query + (" FOR UPDATE" if for_update else ""), (mall_id, task_id)).fetchone()
        return _task(row) if row else None

    def open_for_case(self, case_id: str) -> list[Task]:
        rows = self.conn.execute(
            "SELECT * FROM routing.tasks WHERE case_id = %s AND state IN ('open', 'claimed') ORDER BY created_at",
            (case_id,),
        ).fetchall()
        return [_task(row) for row in rows]

    def set_assignee(self, task_id: str, assignee: str | None) -> None:
        """The task's new holder (None: back in its queue); in a `deferred` block, written at its end."""
        state = TaskState.CLAIMED if assignee else TaskState.OPEN
        self._write(
            "UPDATE routing.tasks SET assignee = %s, state = %s WHERE id = %s",
            (assignee, state.value, task_id),
        )

    def _write(self, statement: str, values: tuple) -> None:
        """Run a change now, or keep it for the end of the `deferred` block in hand."""
        if self._deferred is not None:
            self._deferred.append((statement, values))
            return
        self.conn.execute(statement, values)

    @contextlib.contextmanager
    def deferred(self, collected: list[tuple[str, tuple]]) -> Iterator[None]:
        """Changes made in the block are added to `collected` (statements with their values), for the
        caller to write with its own rows in one statement (UnitOfWork.deferred)."""
        self._deferred = collected
        try:
            yield
        finally:
            self._deferred = None

    def describe(
        self,
        task_id: str,
        title: str,
        form: list[dict[str, Any]],
        instructions: str | None,
        titles: dict[str, str],
    ) -> None:
        """What a task shows (its case moved to another version of the diagram)."""
        self.conn.execute(
            "UPDATE routing.tasks SET title = %s, form = %s, instructions = %s, titles = %s WHERE id = %s",
            (
                title,
                json.dumps(form, ensure_ascii=False),
                instructions,
                json.dumps(titles, ensure_ascii=False),
                task_id,
            ),
        )

    def set_due(self, task_id: str, due_at: datetime) -> None:
        self.conn.execute("UPDATE routing.tasks SET due_at = %s WHERE id = %s", (due_at, task_id))

    def close(self, task_id: str, state: TaskState, at: datetime, by: str) -> None:
        """The task done or cancelled; in a `deferred` block, written at its end."""
        self._write(
            "UPDATE routing.tasks SET state = %s, closed_at = %s, closed_by = %s WHERE id = %s",
            (state.value, at, by, task_id),
        )

    def list(self, query: TaskQuery) -> list[Task]:
        """Tasks of the queues in these states, oldest first (keyset on created_at, id)."""
        where = Where(mall_id=query.mall_id).any_of("queue", query.queues, "queues")
        where.any_of("state", query.states, "states")
        where.equal("assignee", query.assignee or None)
        where.equal("number", query.number or None)  # an empty ?number= is no filter
        where.keyset("created_at", query.after, newest_first=False)
        where.in_scope(query.scope_floors, query.scope_departments)
        statement = sql.SQL(
            "SELECT * FROM routing.tasks WHERE {} ORDER BY created_at, id LIMIT %(limit)s"
        ).format(where.clause())
        rows = self.conn.execute(statement, {**where.params, "limit": query.limit}).fetchall()
        return [_task(row) for row in rows]


def task_from_json(found: dict) -> Task:
    """A task row as PostgreSQL's to_jsonb writes it (its times as ISO 8601 text)."""
    times = {key: datetime.fromisoformat(found[key]) if found[key] else None for key in _TIMES}
    return _task({**found, **times})


_TIMES = ("created_at", "due_at", "closed_at")


def _task(row: dict) -> Task:
    return Task(
        id=str(row["id"]),
        case_id=str(row["case_id"]),
        mall_id=row["mall_id"],
        queue=row["queue"],
        element_id=row["element_id"],
        title=row["title"],
        number=row["number"],
        state=TaskState(row["state"]),
        created_at=row["created_at"],
        form=row["form"],
        floor=row["floor"],
        department=row["department"],
        assignee=row["assignee"],
        due_at=row["due_at"],
        instructions=row["instructions"],
        titles=row["titles"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
    )

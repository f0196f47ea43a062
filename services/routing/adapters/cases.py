"""Cases (one serialized workflow per complaint), their timeline and incidents."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from services.common.db import insert_many
from services.routing.adapters.tasks import task_from_json
from services.routing.domain.model import Task
from services.routing.engine import PendingTimer

TIMELINE_INSERT = (
    "INSERT INTO routing.timeline (case_id, at, actor, role, kind, element_id, task_id, detail) VALUES"
)


@dataclass
class CaseRow:
    id: str
    mall_id: str
    number: str
    process_version_id: str
    status: str
    state: dict[str, Any] | str  # as read and as a step leaves it: the JSON text stored (see `state_dict`)
    revision: int
    next_due_at: datetime | None
    floor: str | None
    department: str | None
    created_at: datetime
    updated_at: datetime
    visited: list[str] = field(default_factory=list)
    current_elements: list[str] | None = None  # None: not saved with the state (see migration 0007)
    pending_timers: list[PendingTimer] | None = None  # None: not saved with the state (migration 0009)


@dataclass(frozen=True)
class CaseSummary:
    """A case as its readers see it, without its workflow state (tens of kilobytes a case): who
    may see it, where it is, on which version."""

    id: str
    mall_id: str
    number: str
    process_version_id: str
    process_key: str
    version: int
    status: str
    next_due_at: datetime | None
    floor: str | None
    department: str | None
    visited: list[str]
    current_elements: list[str] | None
    had_incidents: bool  # whether any step of it ever failed (most cases: no incidents to read)
    departments_told: list[str] = field(default_factory=list)  # may read it too (migration 0010)
    open_tasks: list[Task] | None = None  # read with it when asked for (see `summary`)


# A case as steps read it: the state as its stored JSON text, decoded only by the process that
# restores the workflow (the step's sandbox process), not here and again there.
_CASE = (
    "SELECT c.id, c.mall_id, c.number, c.process_version_id, c.status, c.state::text AS state, c.revision,"
    " c.next_due_at, c.floor, c.department, c.created_at, c.updated_at, c.visited, c.current_elements,"
    " c.pending_timers"
)
_SUMMARY = (
    "SELECT c.id, c.mall_id, c.number, c.process_version_id, v.process_key, v.version, c.status,"
    " c.next_due_at, c.floor, c.department, c.visited, c.current_elements, c.departments_told,"
    " EXISTS (SELECT FROM routing.incidents i WHERE i.case_id = c.id) AS had_incidents"
    " FROM routing.cases c JOIN routing.process_versions v ON v.id = c.process_version_id"
    " WHERE c.mall_id = %s AND c.id = %s"
)
_SUMMARY_WITH_TASKS = (  # the same, and its open tasks as `open_for_case` reads them
    "SELECT c.id, c.mall_id, c.number, c.process_version_id, v.process_key, v.version, c.status,"
    " c.next_due_at, c.floor, c.department, c.visited, c.current_elements, c.departments_told,"
    " EXISTS (SELECT FROM routing.incidents i WHERE i.case_id = c.id) AS had_incidents,"
    " (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.created_at), '[]') FROM routing.tasks t"
    " WHERE t.case_id = c.id AND t.state IN ('open', 'claimed')) AS open_tasks"
    " FROM routing.cases c JOIN routing.process_versions v ON v.id = c.process_version_id"
    " WHERE c.mall_id = %s AND c.id = %s"
)


class CaseRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn
        # A `deferred()` block's timeline rows and saved cases, written by its caller.
        self._timeline: list[tuple] | None = None
        self._saved: dict[str, CaseRow] | None = None

    def add(self, case: CaseRow) -> bool:
        """Insert a new case (with its first state, if taken); False when a case for this complaint
        already exists."""
        row = self.conn.execute(
            "INSERT INTO routing.cases (id, mall_id, number, process_version_id, status, state, revision,"
            " next_due_at, floor, department, created_at, updated_at, visited, current_elements, pending_timers)"
            " VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO NOTHING RETURNING id",
            (
                case.id,
                case.mall_id,
                case.number,
                case.process_version_id,
                case.status,
                _stored(case.state),
                case.next_due_at,
                case.floor,
                case.department,
                case.created_at,
                case.updated_at,
                case.visited,
                case.current_elements,
                _timers_stored(case.pending_timers),
            ),
        ).fetchone()
        return row is not None

    def lock(self, case_id: str) -> CaseRow | None:
        """The case, locked until the transaction ends: one step at a time per case."""
        row = self.conn.execute(
            _CASE + " FROM routing.cases c WHERE c.id = %s FOR UPDATE", (case_id,)
        ).fetchone()
        return _case(row) if row else None

    def lock_with_task(self, mall_id: str, task_id: str) -> tuple[CaseRow, Task] | None:
        """The case of a task and the task, both locked, in one statement: the case first, as every
        step takes them (`FOR UPDATE OF c, t` locks in the order named); None when the mall has no
        such task. A row changed while this waited is read as it was committed."""
        row = self.conn.execute(
            _CASE + ", to_jsonb(t) AS task FROM routing.cases c JOIN routing.tasks t ON t.case_id = c.id"
            " WHERE t.mall_id = %s AND t.id = %s FOR UPDATE OF c, t",
            (mall_id, task_id),
        ).fetchone()
        return (_case(row), task_from_json(row["task"])) if row else None

    def get(self, mall_id: str, case_id: str) -> CaseRow | None:
        row = self.conn.execute(
            _CASE + " FROM routing.cases c WHERE c.mall_id = %s AND c.id = %s", (mall_id, case_id)
        ).fetchone()
        return _case(row) if row else None

    def summary(self, mall_id: str, case_id: str, open_tasks: bool = False) -> CaseSummary | None:
        """The case without its workflow state, with its version's key and number; with its open
        tasks, oldest first, when asked (in the same statement: a case read is one round trip)."""
        row = self.conn.execute(
            _SUMMARY_WITH_TASKS if open_tasks else _SUMMARY, (mall_id, case_id)
        ).fetchone()
        if row is None:
            return None
        found = {**row, "id": str(row["id"]), "process_version_id": str(row["process_version_id"])}
        if open_tasks:
            found["open_tasks"] = [task_from_json(task) for task in row["open_tasks"]]
        return CaseSummary(**found)

    def tell_department(self, case_id: str, department: str) -> None:
        """A notice of the case told `department` (see `departments_told`)."""
        self.conn.execute(
            "UPDATE routing.cases SET departments_told = array_append(departments_told, %s)"
            " WHERE id = %s AND NOT %s = ANY(departments_told)",
            (department, case_id, department),
        )

    def customers(self, case_id: str) -> list[dict[str, Any]]:
        """Every customer object in the case's workflow data (services/common/personal.py's
        `customers_in`, found by PostgreSQL so the state itself is not sent)."""
        row = self.conn.execute(
            "SELECT jsonb_path_query_array(state::jsonb, 'strict $.**.customer ? (@.type() == \"object\")') AS found"
            " FROM routing.cases WHERE id = %s",
            (case_id,),
        ).fetchone()
        return row["found"] if row else []

    def state_of(self, case_id: str) -> dict[str, Any]:
        """The case's workflow state alone."""
        row = self.conn.execute("SELECT state FROM routing.cases WHERE id = %s", (case_id,)).fetchone()
        return row["state"]

    def save(self, case: CaseRow) -> None:
        """Store the advanced state; the revision check guards against a lost update. In a
        `deferred()` block the case is written at its end, as its caller writes it (`saving`)."""
        if self._saved is not None:
            self._saved[case.id] = case  # its state when the block ends is what is written
            return
        text, values = saving(case)
        saved = self.conn.execute(text + " RETURNING revision", values).fetchone()
        if saved is None:
            raise RuntimeError(f"case {case.id} changed under this step (revision {case.revision})")
        case.revision = saved["revision"]

    def unfinished_of_version(self, version_id: str) -> list[str]:
        """Ids of the cases on a version that have not finished (running, or stopped by an incident)."""
        rows = self.conn.execute(
            "SELECT id FROM routing.cases WHERE process_version_id = %s AND status <> 'completed' ORDER BY created_at",
            (version_id,),
        ).fetchall()
        return [str(row["id"]) for row in rows]

    def open_incidents(self, mall_id: str) -> list[dict[str, Any]]:
        """Every unresolved incident of the mall, oldest first, with its case and version, and who
        submitted the completion it keeps for the retry (`held_by`, None for other steps)."""
        return self.conn.execute(
            "SELECT i.id, i.at, i.step, i.error, i.detail ->> 'element' AS element_id,"
            " i.detail -> 'completion' ->> 'by' AS held_by, c.id AS case_id, c.number,"
            " c.floor, c.department, v.process_key, v.version FROM routing.incidents i"
            " JOIN routing.cases c ON c.id = i.case_id JOIN routing.process_versions v ON v.id = c.process_version_id"
            " WHERE c.mall_id = %s AND i.resolved_at IS NULL AND c.status = 'incident' ORDER BY i.at",
            (mall_id,),
        ).fetchall()

    def any_due(self, now: datetime) -> bool:
        """Whether a running case's next timer is due (locked by another worker or not)."""
        return self.conn.execute(_ANY_DUE, (now,)).fetchone()["due"]

    def lock_due(self, now: datetime, limit: int) -> list[CaseRow]:
        """Cases whose next timer is due, locked; cases another worker holds are skipped."""
        rows = self.conn.execute(
            _CASE
            + f" FROM routing.cases c WHERE {_DUE} ORDER BY c.next_due_at LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit),
        ).fetchall()
        return [_case(row) for row in rows]

    def add_timeline(
        self,
        case_id: str,
        at: datetime,
        actor: str,
        role: str | None,
        kind: str,
        element_id: str | None = None,
        task_id: str | None = None,
        detail: dict[str, Any] | None = None,
        before: int | None = None,
    ) -> None:
        """A timeline row; in a deferred block, at the end of its rows, or at the `timeline_mark`
        given as `before`."""
        row = (
            case_id,
            at,
            actor,
            role,
            kind,
            element_id,
            task_id,
            json.dumps(detail or {}, ensure_ascii=False, default=str),
        )
        if self._timeline is not None:
            self._timeline.insert(len(self._timeline) if before is None else before, row)
        else:
            insert_many(self.conn, TIMELINE_INSERT, [row])

    def timeline_mark(self, case_id: str) -> int | None:
        """Where the case's next timeline row goes in a deferred block: a row added later `before`
        it reads before the rows added since (a task's completion before the tasks its step opened,
        though the completion is known to stand only once the step did)."""
        return len(self._timeline) if self._timeline is not None else None

    @contextlib.contextmanager
    def deferred(self, timeline: list[tuple], saved: dict[str, CaseRow]) -> Iterator[None]:
        """Timeline rows added in the block go to `timeline` (TIMELINE_INSERT's rows), cases saved in
        it to `saved` (by id), for the caller to write with its own rows in one statement
        (UnitOfWork.deferred): a step adds several rows, and each statement is a round trip."""
        self._timeline, self._saved = timeline, saved
        try:
            yield
        finally:
            self._timeline = self._saved = None

    def timeline(self, case_id: str) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT at, actor, role, kind, element_id, task_id, detail FROM routing.timeline"
            " WHERE case_id = %s ORDER BY id",
            (case_id,),
        ).fetchall()

    def add_incident(self, case_id: str, at: datetime, step: str, error: str, detail: dict[str, Any]) -> str:
        incident_id = str(uuid.uuid4())
        self.conn.execute(
            "INSERT INTO routing.incidents (id, case_id, at, step, error, detail) VALUES (%s, %s, %s, %s, %s, %s)",
            (incident_id, case_id, at, step, error, json.dumps(detail, default=str)),
        )
        return incident_id

    def resolve_incidents(self, case_id: str, at: datetime, by: str) -> None:
        self.conn.execute(
            "UPDATE routing.incidents SET resolved_at = %s, resolved_by = %s WHERE case_id = %s AND resolved_at IS NULL",
            (at, by, case_id),
        )

    def incidents(self, case_id: str) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT id, at, step, error, detail, resolved_at, resolved_by FROM routing.incidents"
            " WHERE case_id = %s ORDER BY at",
            (case_id,),
        ).fetchall()


# A case whose next timer is due (`c` the case): what `any_due` asks and `lock_due` takes.
_DUE = "c.next_due_at <= %s AND c.status = 'running'"
_ANY_DUE = (
    sql.SQL("SELECT EXISTS (SELECT 1 FROM routing.cases c WHERE {}) AS due").format(sql.SQL(_DUE)).as_string()
)
_SAVE = (
    "UPDATE routing.cases SET state = %s, status = %s, next_due_at = %s, revision = revision + 1,"
    " updated_at = %s, visited = %s, current_elements = %s, pending_timers = %s, process_version_id = %s"
    " WHERE id = %s AND revision = %s"
)


def saving(case: CaseRow) -> tuple[str, tuple]:
    """The update that stores a case as it is now, if it is still at the revision it was read at."""
    values = (
        _stored(case.state),
        case.status,
        case.next_due_at,
        case.updated_at,
        case.visited,
        case.current_elements,
        _timers_stored(case.pending_timers),
        case.process_version_id,
        case.id,
        case.revision,
    )
    return _SAVE, values


def _stored(state: dict[str, Any] | str) -> str:
    """The state as the JSON text stored: a step's text as it is, a dictionary encoded."""
    return state if isinstance(state, str) else json.dumps(state)


def _timers_stored(timers: list[PendingTimer] | None) -> Jsonb | None:
    if timers is None:
        return None
    return Jsonb([{**asdict(timer), "due_at": timer.due_at and timer.due_at.isoformat()} for timer in timers])


def _timers_read(stored: list[dict] | None) -> list[PendingTimer] | None:
    if stored is None:
        return None
    return [
        PendingTimer(**{**timer, "due_at": timer["due_at"] and datetime.fromisoformat(timer["due_at"])})
        for timer in stored
    ]


def _case(row: dict) -> CaseRow:
    return CaseRow(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        number=row["number"],
        process_version_id=str(row["process_version_id"]),
        status=row["status"],
        state=row["state"],
        revision=row["revision"],
        next_due_at=row["next_due_at"],
        floor=row["floor"],
        department=row["department"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        visited=list(row["visited"]),
        current_elements=row.get("current_elements"),
        pending_timers=_timers_read(row.get("pending_timers")),
    )


# What a step reads of its case besides the case (locked before): the messages waiting for it,
# oldest first, and its open tasks, oldest first, in one statement after the lock was granted.
_BEFORE_STEP = (
    "SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'name', m.name, 'payload', m.payload)"
    " ORDER BY m.received_at), '[]') FROM routing.pending_messages m WHERE m.case_id = %(case)s"
    " AND m.delivered_at IS NULL AND m.expires_at > %(now)s) AS messages,"
    " (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.created_at), '[]') FROM routing.tasks t"
    " WHERE t.case_id = %(case)s AND t.state IN ('open', 'claimed')) AS open_tasks"
)


def before_step(
    conn: psycopg.Connection, case_id: str, now: datetime
) -> tuple[list[dict[str, Any]], list[Task]]:
    """The case's undelivered, unexpired messages and its open tasks, as a step needs them."""
    row = conn.execute(_BEFORE_STEP, {"case": case_id, "now": now}).fetchone()
    return row["messages"], [task_from_json(task) for task in row["open_tasks"]]

"""A case's pending timers as an operator sees them, and firing or moving one.

Like Camunda's cockpit, an operator may run a timer now or change when it falls due. Either is a
step of the case taken exactly as the scheduler takes a due timer (`advance_case` in the caller's
transaction, with the case locked): the same events, the same notifications, the same tasks. What
the operator did, and why, goes on the case's timeline before the step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.common.errors import Conflict, InvalidInput, NotFound
from services.routing.adapters.cases import CaseRow
from services.routing.domain.commands import MoveTimer
from services.routing.domain.model import CaseStatus
from services.routing.engine import PendingTimer
from services.routing.engine.step_request import Step
from services.routing.service_layer.context import Context
from services.routing.service_layer.steps import SYSTEM, advance_case
from services.routing.service_layer.unit_of_work import UnitOfWork

# Further off than this, a moved escalation or reminder would never come (9999-12-31 switched "a
# month unresolved" off): no deadline of PROCESS.md is that far.
FURTHEST_MOVE = timedelta(days=366)


def pending_timers(uow: UnitOfWork, context: Context, case: CaseRow) -> list[PendingTimer]:
    """The timers the case waits on, soonest first (none once it has finished): as its last step
    saved them, or from its workflow when the step did not (see migration 0009)."""
    if case.status == CaseStatus.COMPLETED:
        return []
    if case.pending_timers is not None:
        return case.pending_timers
    return context.engine.pending_timers(_workflow(uow, context, case))


def move_timer(command: MoveTimer, uow: UnitOfWork, context: Context) -> tuple[PendingTimer, bool]:
    """Make one of the case's timers fall due at `command.due_at` (None: now); (the timer as it
    was, whether it fired). A due time not later than now fires it at once."""
    with uow:
        case = uow.cases.lock(command.case_id)
        if case is None or case.mall_id != context.mall_id:
            raise NotFound(f"no case {command.case_id}")
        if case.status != CaseStatus.RUNNING:
            raise Conflict(f"the case is {case.status}: its timers cannot be moved")
        timer = _pending(uow, context, case, command.timer_id)
        now = context.clock.now()
        if command.due_at is not None and command.due_at > now + FURTHEST_MOVE:
            raise InvalidInput(
                "a timer can be moved at most a year ahead",
                {"due_at": ["at most a year from now"]},
            )
        fires = command.due_at is None or command.due_at <= now
        due = now if fires else command.due_at
        detail = {
            "name": timer.name,
            "reason": command.reason,
            "due_before": _iso(timer.due_at),
            "due_after": due.isoformat(),
        }
        with uow.deferred():  # the operator's line goes with the step's rows, in one statement
            uow.cases.add_timeline(
                case.id,
                now,
                command.actor_id,
                command.actor_role,
                "timer_fired" if fires else "timer_moved",
                timer.element_id,
                None,
                detail,
            )
            advance_case(uow, context, case, Step(case.state, timer=(timer.id, due)), SYSTEM, "timer")
        return timer, fires


def _workflow(uow: UnitOfWork, context: Context, case: CaseRow):
    """The case's workflow restored in this process to be read (no diagram code runs)."""
    diagram = context.diagrams.get(case.process_version_id, uow.processes.get)
    return context.engine.restore(diagram, case.state)


def _pending(uow: UnitOfWork, context: Context, case: CaseRow, timer_id: str) -> PendingTimer:
    """The case's pending timer `timer_id`; Conflict if it fired or its task ended, else NotFound."""
    for timer in pending_timers(uow, context, case):
        if timer.id == timer_id:
            return timer
    workflow = _workflow(uow, context, case)  # only the workflow knows a timer that has gone
    if context.engine.timer_state(workflow, timer_id) == "done":
        raise Conflict(f"the timer {timer_id} has fired already or its task has ended")
    raise NotFound(f"no pending timer {timer_id} on case {case.number}")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

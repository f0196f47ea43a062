"""Moving running cases to another version of their process, one at a time or every case of a version.

A case moves when every element it waits at (and every one it passed that the engine still reads)
exists with the same id in the target version (`engine.migration`); otherwise it is refused, naming
the elements without a counterpart. A dry run answers the same without moving anything. A moved
case keeps its tasks (retitled from the target), data and timers; its timeline says so. Nothing is
published: reporting reads events, not versions, and is unaffected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from services.common.errors import Conflict, InvalidInput, NotFound
from services.routing.adapters.cases import CaseRow
from services.routing.adapters.processes import ProcessVersion
from services.routing.domain.commands import MigrateCase
from services.routing.domain.model import CaseStatus
from services.routing.service_layer.context import Context
from services.routing.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Migration:
    """One case's move: done (or possible, in a dry run), or refused with the elements B lacks."""

    case_id: str
    number: str
    from_version: int
    to_version: int
    moved: bool
    missing: dict[str, bool] = field(default_factory=dict)  # element id -> whether the case waits there
    stopped: bool = False  # stopped by an incident: moving it does not retry it

    @property
    def refused(self) -> bool:
        return bool(self.missing)


def migrate_case(command: MigrateCase, uow: UnitOfWork, context: Context) -> Migration:
    """Move the case if it can move (not in a dry run); a refusal is an answer, not an error."""
    with uow:
        case = uow.cases.lock(command.case_id)
        if case is None or case.mall_id != context.mall_id:
            raise NotFound(f"no case {command.case_id}")
        if case.status == CaseStatus.COMPLETED:
            raise Conflict("the case has finished: there is nothing to move")
        source = uow.processes.get(case.process_version_id)
        target = _target(uow, context, source, command.to_version)
        diagram = context.diagrams.get(target.id, uow.processes.get)
        missing = context.engine.migration_gaps(case.state, diagram)
        stopped = case.status == CaseStatus.INCIDENT
        outcome = Migration(
            case.id,
            case.number,
            source.version,
            target.version,
            moved=False,
            missing=missing,
            stopped=stopped,
        )
        if missing or command.dry_run or target.id == source.id:
            return outcome
        _move(uow, context, case, target, diagram, command, source)
        return Migration(case.id, case.number, source.version, target.version, moved=True, stopped=stopped)


def _target(uow: UnitOfWork, context: Context, source: ProcessVersion, version: int) -> ProcessVersion:
    target = uow.processes.find(context.mall_id, source.process_key, version)
    if target is None:
        raise InvalidInput(
            f"no version {version} of {source.process_key}",
            {"to_version": [f"no version {version} of {source.process_key}"]},
        )
    return target


def _move(
    uow: UnitOfWork,
    context: Context,
    case: CaseRow,
    target: ProcessVersion,
    diagram,
    command: MigrateCase,
    source: ProcessVersion,
) -> None:
    now = context.clock.now()
    case.state = context.engine.migrate(case.state, diagram)
    case.current_elements = None  # read from the migrated workflow when the case is next read
    case.pending_timers = None  # likewise
    case.process_version_id = target.id
    case.updated_at = now
    uow.cases.save(case)
    for task in uow.tasks.open_for_case(case.id):
        info = diagram.user_tasks.get(task.element_id)
        if info is not None:
            form = [asdict(item) for item in info.form]
            uow.tasks.describe(task.id, info.title, form, info.instructions, info.titles)
    detail = {"from_version": source.version, "to_version": target.version, "reason": command.reason}
    uow.cases.add_timeline(
        case.id, now, command.actor_id, command.actor_role, "case_migrated", None, None, detail
    )

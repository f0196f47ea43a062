"""The proof a version passes before it is deployed: it runs, in memory, against probe complaints.

Each probe complaint starts a case of the candidate version on the proof's own clock. The proof then
walks the case the way staff and time would: it completes each ready user task with every choice its
form allows (one field changed at a time from a first answer; every other field filled from its
type), fires each pending timer (as an operator may: the timer falls due now), and delivers each
message a catch event waits for. Walks start again from the probe's first state until every such
action has been tried at least once wherever a walk met it, or until the time budget is spent.
The budget is the CPU time of the process proving (a sandbox child that does nothing else), so a
diagram proves the same on a busy server as on a quiet one; a wall-clock limit of twice the budget
still bounds how long a designer waits.

A walk stops at a problem: a step that raises (the case would stop with an incident), or a case
that is stuck (not finished, and no task, timer or message can move it). Each problem names the
probe, the path that led to it and the element where it stopped. The answer also tells which flow
elements some walk reached, so a designer sees what the probes never touched.

It runs where steps run (`sandbox`), so a diagram's scripts stay confined while it is proved.
Nothing is stored: the cases live only in this process's memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.routing.domain.form_checks import condition_text
from services.routing.domain.model import COMPLETED_IN_QUEUE
from services.routing.engine.conditions import names_read
from services.routing.engine.engine import Engine, EngineError
from services.routing.engine.form_files import FormField
from services.routing.engine.parser import Diagram

MAX_DEPTH = 60  # actions in one walk: loops (reopenings, postponements) end here, not in a problem
MAX_WALKS = 40  # per probe
TEXT = "证明"  # what the proof types into a text field
NUMBER = 1


@dataclass(frozen=True)
class Probe:
    name: str
    data: dict[str, Any]  # the new case's workflow data: complaint and policy


@dataclass(frozen=True)
class ProofRequest:
    """What to prove a diagram against; runs in a sandbox child like a step (see `sandbox`)."""

    probes: tuple[Probe, ...]
    start: datetime
    max_seconds: float = 30.0


@dataclass(frozen=True)
class ProofProblem:
    probe: str
    kind: str  # incident or stuck
    element_id: str | None
    element_name: str | None
    message: str
    path: tuple[str, ...]  # what was done, from the start


@dataclass(frozen=True)
class ProofResult:
    problems: tuple[ProofProblem, ...]
    elements: dict[str, str | None]  # every flow element of the diagram: id -> name
    reached: frozenset[str]
    walks: int
    actions: int
    complete: bool  # every action was tried within the time budget
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> language -> name (Diagram.names)

    def name(self, element: str | None, language: str) -> str | None:
        """An element as the reader's language names it; its drawn name where it has none there."""
        if element is None:
            return None
        return self.names.get(element, {}).get(language) or self.elements.get(element)

    @property
    def unreached(self) -> list[str]:
        return sorted(set(self.elements) - self.reached)


class _Budget:
    """`seconds` of this process's CPU time, and at most twice as long by the wall clock."""

    def __init__(self, seconds: float):
        self.cpu_until = time.process_time() + seconds
        self.wall_until = time.monotonic() + WALL_FACTOR * seconds

    def spent(self) -> bool:
        return time.process_time() > self.cpu_until or time.monotonic() > self.wall_until


WALL_FACTOR = 2.0


@dataclass
class _Search:
    engine: Engine
    clock: Any  # the sandbox's step clock: `moment` is the proof's now
    diagram: Diagram
    budget: _Budget
    problems: list[ProofProblem] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)
    walks: int = 0
    actions: int = 0
    out_of_time: bool = False
    read: frozenset[str] | None = None  # the names routes depend on (`names_read`), once per proof


def prove(engine: Engine, clock, diagram: Diagram, request: ProofRequest) -> ProofResult:
    """Walk every probe's case (see the module's docstring) and say what went wrong and what was reached."""
    search = _Search(engine, clock, diagram, _Budget(request.max_seconds))
    search.read = frozenset(names_read(diagram.spec, diagram.subprocess_specs))
    for probe in request.probes:
        _prove_probe(search, probe, request.start)
    elements = flow_elements(diagram)
    return ProofResult(
        tuple(search.problems),
        elements,
        frozenset(search.reached),
        search.walks,
        search.actions,
        complete=not search.out_of_time,
        names={element: diagram.names[element] for element in elements if element in diagram.names},
    )


def flow_elements(diagram: Diagram) -> dict[str, str | None]:
    """Every element of the diagram a case can be at: tasks, events, gateways (by id, with names)."""
    found: dict[str, str | None] = {}
    for spec in [diagram.spec, *diagram.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None):
                found[task_spec.bpmn_id] = task_spec.bpmn_name
    return found


def _prove_probe(search: _Search, probe: Probe, start: datetime) -> None:
    search.clock.moment = start
    try:
        workflow = search.engine.create(search.diagram, probe.data)
        search.engine.advance(workflow)
    except EngineError as exc:
        _add(search, _incident(search, probe, ("start",), exc))
        return
    _note_reached(search, workflow)  # what its first steps passed, before the stored state drops it
    first = search.engine.dump(workflow)
    tried: set[tuple] = set()
    for _ in range(MAX_WALKS):
        if search.budget.spent():
            search.out_of_time = True
            return
        before = len(tried)
        _walk(search, probe, first, start, tried)
        if len(tried) == before:
            return  # a walk that tried nothing new: every action met has been tried


def _walk(search: _Search, probe: Probe, first: dict, start: datetime, tried: set[tuple]) -> bool:
    """One walk from the probe's first state; True when it met a problem (kept once per element)."""
    search.walks += 1
    search.clock.moment = start
    workflow = search.engine.restore(search.diagram, first)
    path: list[str] = ["start"]
    for _ in range(MAX_DEPTH):
        _note_reached(search, workflow)
        if search.engine.is_completed(workflow):
            return False
        actions = _actions(search, workflow)
        if not actions:
            _add(search, _stuck(search, probe, workflow, path))
            return True
        action = next((each for each in actions if _key(each, path) not in tried), actions[0])
        tried.add(_key(action, path))
        path.append(action.label)
        search.actions += 1
        try:
            action.take(search, workflow)
        except EngineError as exc:
            _add(search, _incident(search, probe, tuple(path), exc))
            return True
    return False


def _add(search: _Search, problem: ProofProblem) -> None:
    """A problem once per probe, kind and element: other paths to it say nothing new."""
    seen = {(each.probe, each.kind, each.element_id) for each in search.problems}
    if (problem.probe, problem.kind, problem.element_id) not in seen:
        search.problems.append(problem)


@dataclass(frozen=True)
class _Action:
    key: tuple  # what counts as the same action when deciding what is new
    label: str  # as the path shows it
    kind: str
    target: str  # a task's or timer's id, or a message name
    data: dict[str, Any] = field(default_factory=dict)

    def take(self, search: _Search, workflow) -> None:
        engine = search.engine
        if self.kind == "complete":
            engine.complete(workflow, self.target, self.data)
        elif self.kind == "timer":
            engine.move_timer(workflow, self.target, search.clock.moment)
            engine.advance(workflow)
        else:
            engine.deliver_message(workflow, self.target, {}, self.target)


def _actions(search: _Search, workflow) -> list[_Action]:
    """What can move the case now: each ready task with each form answer (its first answer first, so
    that a walk with nothing new to try goes on towards the end), each pending timer, each message."""
    today = search.clock.moment.date()
    firsts, others = [], []
    for task in search.engine.ready_tasks(workflow, search.diagram):
        name = task.info.title or task.info.element_id
        for index, (choice, data) in enumerate(form_answers(task.info.form, today, search.read)):
            label = f"{name}: {choice}" if choice else name
            data = {**data, COMPLETED_IN_QUEUE: task.info.queue}  # as the task API adds it
            action = _Action(("complete", task.info.element_id, index), label, "complete", task.id, data)
            (others if index else firsts).append(action)
    timers = [
        _Action(
            ("timer", timer.element_id), f"{timer.name or timer.element_id} (timer fired)", "timer", timer.id
        )
        for timer in search.engine.pending_timers(workflow)
    ]
    messages = [
        _Action(("message", name), f"message {name}", "message", name)
        for name in search.engine.waiting_messages(workflow)
    ]
    return firsts + others + timers + messages


def form_answers(
    form: tuple[FormField, ...], today: date, read: frozenset[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(what was chosen, data) for a first answer and for each other choice of each enum and boolean
    field, one changed at a time; every other field filled from its type. A choice of many values
    that nothing in `read` (the names routes depend on) reads keeps its first: the department asked
    decides no route, and its nine values would spend the walks the other routes need."""
    choices = [item for item in form if item.type in ("enum", "boolean")]
    first = {item.id: _values(item)[0] for item in choices}
    varied = [item for item in choices if read is None or item.type == "boolean" or item.id in read]
    variants = [first] + [{**first, item.id: value} for item in varied for value in _values(item)[1:]]
    # a read-only field is shown, never sent: a script reading it meets what staff leave
    filled = {item.id: _typed(item, today) for item in form if item not in choices and not item.readonly}
    answers = [_taken(form, {**filled, **variant}) for variant in variants]
    return [
        (_describe({key: value for key, value in variant.items() if key in data}), data)
        for variant, data in zip(variants, answers, strict=True)
    ]


def _taken(form: tuple[FormField, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The answer without the fields its other answers leave out (`only_when`: a satisfaction when the
    customer was not reached), as staff can send it."""
    text = {key: condition_text(value) for key, value in data.items()}
    left_out = {
        item.id
        for item in form
        if item.only_when and not any(text.get(other) == value for other, value in item.only_when)
    }
    return {key: value for key, value in data.items() if key not in left_out}


def _values(item: FormField) -> list[Any]:
    if item.type == "boolean":
        return [True, False]
    return [option[0] for option in item.options] or [None]


def _typed(item: FormField, today: date) -> Any:
    """A value of the field's type, inside the bounds its form gives it (as check_form takes it)."""
    limits = item.limits
    if item.type == "long":
        return min(max(NUMBER, limits.get("min", NUMBER)), limits.get("max", NUMBER))
    if item.type == "decimal":  # as the console sends an amount: text, with its fen
        return f"{min(max(NUMBER, limits.get('min', NUMBER)), limits.get('max', NUMBER))}.00"
    if item.type == "date":  # a day to come (a new reply date), or today where it may not be later
        return (today if "max" in limits else today + timedelta(days=3)).isoformat()
    text = TEXT.ljust(limits.get("minlength", 0), "。")
    return text[: limits["maxlength"]] if "maxlength" in limits else text


def _describe(variant: dict[str, Any]) -> str:
    return ", ".join(
        f"{key}={str(value).lower() if isinstance(value, bool) else value}" for key, value in variant.items()
    )


def _key(action: _Action, path: list[str]) -> tuple:
    """An action, and how often the walk has taken it already (up to three): going round a loop a
    second and third time (a postponement, a reopening) is new too."""
    return (*action.key, min(path.count(action.label), 3))


def _note_reached(search: _Search, workflow) -> None:
    search.reached.update(search.engine.reached_elements(workflow))


def _incident(search: _Search, probe: Probe, path: tuple[str, ...], error: EngineError) -> ProofProblem:
    name = flow_elements(search.diagram).get(error.element) if error.element else None
    return ProofProblem(probe.name, "incident", error.element, name, str(error), path)


def _stuck(search: _Search, probe: Probe, workflow, path: list[str]) -> ProofProblem:
    at = search.engine.current_elements(workflow)
    element = at[0] if at else None
    names = flow_elements(search.diagram)
    where = ", ".join(names.get(each) or each for each in at) or "nothing"
    message = (
        f"the case is stuck: it has not finished, and no task, timer or message can move it "
        f"(it is at {where})"
    )
    return ProofProblem(
        probe.name, "stuck", element, names.get(element) if element else None, message, tuple(path)
    )

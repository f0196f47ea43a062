"""One step of a case as a plain request and answer, so it can run in another process.

A step restores the stored workflow (or creates a new one), does one thing to it (advance, complete
a task, correct data, move a timer), hands over the messages that wait for it, and answers with the new state and
what the service must mirror: the elements passed, the ready user tasks, the timers waiting. Requests
and answers hold only plain values, dataclasses and datetimes, so they pickle cheaply.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.routing.engine.engine import CompletedElement, Engine, PendingTimer, ReadyTask
from services.routing.engine.parser import Diagram


@dataclass(frozen=True)
class WaitingMessage:
    """A message from outside, kept until its catch event waits for it."""

    id: str
    name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What to do to a case's workflow, from one wait to the next."""

    # The stored state (or its JSON text, as steps hand it around); None starts a new workflow holding `data`.
    state: dict[str, Any] | str | None
    data: dict[str, Any] = field(default_factory=dict)  # a new case's data, or corrections to retry with
    task_id: str | None = None  # a user task to complete with `task_data`
    task_data: dict[str, Any] = field(default_factory=dict)
    timer: tuple[str, datetime] | None = None  # a waiting timer (its id) to make due at this time first
    messages: tuple[WaitingMessage, ...] = ()
    shared_keys: frozenset[str] = frozenset()  # workflow data every task carries: left out of `completed`


@dataclass(frozen=True)
class StepResult:
    state: str  # the workflow's state as the JSON text stored (Engine.dump_text)
    completed: list[CompletedElement]
    ready: list[ReadyTask]
    next_due: datetime | None
    finished: bool
    delivered: list[str]  # ids of the messages handed over
    current: list[str]  # the diagram elements the case is at after the step
    timers: list[PendingTimer]  # the timers it waits on after the step, soonest first


def run_step(engine: Engine, diagram: Diagram, step: Step) -> StepResult:
    """Take the step in this process; raises EngineError when a script or expression fails."""
    workflow = (
        engine.create(diagram, step.data) if step.state is None else engine.restore(diagram, step.state)
    )
    began = time.time()  # the engine stamps state changes with time.time(): this tells which were this step's
    if step.state is not None and step.data:
        engine.correct_data(workflow, step.data)
    if step.task_id is not None:
        engine.complete(workflow, step.task_id, step.task_data)
    else:
        if step.timer is not None:
            engine.move_timer(workflow, *step.timer)
        engine.advance(workflow)
    delivered = [
        message.id
        for message in step.messages
        if engine.deliver_message(workflow, message.name, message.payload, message.name)
    ]
    completed = [
        replace(
            element, data={key: value for key, value in element.data.items() if key not in step.shared_keys}
        )
        for element in engine.completed_since(workflow, began)
    ]
    live = engine.live_tasks(workflow)  # walked once for the four questions below
    ready = [replace(task, data={}) for task in engine.ready_tasks(workflow, diagram, live)]
    return StepResult(
        engine.dump_text(workflow),
        completed,
        ready,
        engine.next_due(workflow, live),
        engine.is_completed(workflow),
        delivered,
        engine.current_elements(workflow, live),
        engine.pending_timers(workflow, live),
    )

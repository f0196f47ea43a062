"""Moving a running case to another version of its process (Camunda's process instance migration).

A stored workflow names each task's spec by its BPMN id, so a case restores under another version
when every task it still holds has a spec of that id there. Which tasks it holds: what it waits at
(ready user tasks, waiting timers and messages), what it passed and the engine still reads
(`compaction`), and what the engine predicted it will or may reach next. The predicted ones come
from the old version's flows: those the new version lacks are dropped, and the engine predicts
again from the new version's flows when their parent completes. Every other one must have its
counterpart, or the case cannot move; `gaps` names those that have none.

A moved case keeps its task ids, data and timers' due times: its open tasks stay in the queues
(with the new version's titles and forms) and nothing it waits for starts again.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from SpiffWorkflow.util.task import TaskState

# Not reached yet: definitely next (FUTURE) or perhaps (LIKELY, MAYBE), from the old version's flows.
PREDICTED = int(TaskState.FUTURE | TaskState.PREDICTED_MASK)
WAITS = int(TaskState.READY | TaskState.WAITING)


def gaps(state: dict[str, Any], spec, subprocess_specs: dict) -> dict[str, bool]:
    """{element id: whether the case waits there} for every element the case holds that the target
    version lacks (predicted ones aside); empty when the case can move."""
    missing: dict[str, bool] = {}
    for tasks, target in _workflows(state, spec, subprocess_specs):
        for task in tasks.values():
            if task["state"] & PREDICTED or (target is not None and task["task_spec"] in target.task_specs):
                continue
            element = _element(task["task_spec"])
            missing[element] = missing.get(element, False) or bool(task["state"] & WAITS)
    return missing


def retarget(state: dict[str, Any], spec, subprocess_specs: dict) -> tuple[dict[str, Any], list[str]]:
    """A copy of the state without the predicted tasks the target version lacks (and what hangs
    under them), ready to restore under the target's specs, and the ids of the tasks that lost
    children: their next steps are to be predicted again from the target's flows. Call only when
    `gaps` is empty."""
    result, orphaned = deepcopy(state), []
    for tasks, target in _workflows(result, spec, subprocess_specs):
        for task_id in [key for key, task in tasks.items() if _dropped(task, target)]:
            if task_id in tasks:
                orphaned.append(tasks[task_id]["parent"])
                _remove(tasks, task_id)
    return result, [task_id for task_id in dict.fromkeys(orphaned) if _held(result, task_id)]


def _held(state: dict[str, Any], task_id: str | None) -> bool:
    return task_id is not None and any(task_id in tasks for tasks, _ in _workflows(state, None, {}))


def _workflows(state: dict[str, Any], spec, subprocess_specs: dict) -> Iterator[tuple[dict, Any]]:
    yield state["tasks"], spec
    for sub in (state.get("subprocesses") or {}).values():
        yield sub["tasks"], subprocess_specs.get(sub.get("spec"))


def _dropped(task: dict[str, Any], target) -> bool:
    return bool(task["state"] & PREDICTED) and (target is None or task["task_spec"] not in target.task_specs)


def _remove(tasks: dict[str, dict[str, Any]], task_id: str) -> None:
    task = tasks.pop(task_id)
    parent = tasks.get(task["parent"]) if task.get("parent") else None
    if parent is not None:
        parent["children"] = [child for child in parent["children"] if child != task_id]
    for child in task.get("children", []):
        if child in tasks:
            _remove(tasks, child)


def _element(spec_name: str) -> str:
    """The BPMN element a task spec stands for (`handle_floor.BoundaryEventSplit` → `handle_floor`)."""
    return spec_name.split(".", 1)[0]

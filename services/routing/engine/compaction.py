"""Keep a stored workflow as large as its present, not its history.

SpiffWorkflow never forgets a task: every pass round a loop (a reopened complaint goes
callback → handle_ops → reply → wait_callback → callback) appends ~5 levels to one ever-deeper
chain. The stored state grows ~2 KB and each step ~0.7 ms per pass, and past ~200 passes the
library's task iterators (max depth 1000) stop seeing the newest tasks: `get_tasks()` finds
nothing and `is_completed()` answers True for a case that is still open.

`compact` rewrites the serialized workflow (the dict `BpmnWorkflowSerializer.to_dict` makes,
without its specs) so that it keeps only what the engine can still read, and contracts the tree
around it: a kept task's new parent is its nearest kept ancestor, so the order of ancestors among
kept tasks is what it was. Kept are

* the root task (the tree's `Start`; new branches of a collaboration start under it),
* every task not done for good (anything but COMPLETED or CANCELLED: waiting, ready, predicted,
  and failed ones, which a retry may reset),
* the parent of each of those — its data is what the task inherits again when it is updated
  (`Task._inherit_data` merges the parent's data over the task's own), and joins read it —
  and its children (a multi-instance or loop task counts and merges its finished children),
* for an unfinished structured join (the `BoundaryEventJoin` after a task with boundary events,
  `StartEventJoin`): the split it finds with `find_ancestor`, and all of the split's children,
* for a waiting parallel or inclusive gateway: the other tasks of the same gateway (cancelled
  when this one arrived) and their parents, whose states tell which inputs have arrived,
* the workflow's `last_task` (a subprocess hands its data back from it).

Everything else is finished, and nothing the engine runs looks at it again. Task data is stored
as deltas against the parent (serializer 1.5), so a kept task that gets a new parent has its data
materialised along its old chain and re-expressed as a delta against the new parent; every kept
task therefore restores exactly the data it had. Subprocesses are compacted the same way, and a
subprocess whose task was dropped is dropped with it. Ad hoc subprocesses (which find their
branches among the root's children) and trees that do not hang together are left alone.

The result lists each workflow's tasks parents first. `from_dict` needs that (it rebuilds a
task's data from its parent's), and the library's own output has it only because `dict` keeps
insertion order; `Engine.restore` passes stored states through `compact` as well, so a state whose
keys were reordered on the way (a `jsonb` column, `json.dumps(sort_keys=True)`) restores correctly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

DONE = TaskState.COMPLETED | TaskState.CANCELLED

Tasks = dict[str, dict[str, Any]]


def compact(state: dict[str, Any], spec, subprocess_specs: dict) -> dict[str, Any]:
    """A copy of a serialized workflow (specs left out) reduced to what the engine still needs."""
    result = _compact_workflow(state, spec)
    subprocesses = {
        task_id: _compact_workflow(sub, subprocess_specs.get(sub.get("spec")))
        for task_id, sub in (state.get("subprocesses") or {}).items()
    }
    # A subprocess lives as long as its task (in the top workflow or in another subprocess).
    while True:
        present = set(result["tasks"]).union(*(sub["tasks"] for sub in subprocesses.values()))
        gone = [task_id for task_id in subprocesses if task_id not in present]
        if not gone:
            break
        for task_id in gone:
            del subprocesses[task_id]
    if "subprocesses" in state:
        result["subprocesses"] = subprocesses
    return result


def _compact_workflow(workflow: dict[str, Any], process_spec) -> dict[str, Any]:
    tasks: Tasks = workflow.get("tasks") or {}
    root = workflow.get("root")
    if process_spec is None or isinstance(process_spec, AdHocSubprocessSpec) or not _is_tree(tasks, root):
        return dict(workflow)
    keep = _needed(tasks, root, process_spec, workflow.get("last_task"))
    order, parents, children = _contract(tasks, root, keep)
    data = _Materialised(tasks)
    compacted: Tasks = {}
    for task_id in order:
        task = dict(tasks[task_id])
        task["children"] = children[task_id]
        if parents[task_id] != task["parent"]:  # a new parent: re-express the data against it
            task["parent"] = parents[task_id]
            task["delta"] = _delta(data.of(parents[task_id]), data.of(task_id))
            task["data"] = {}
        compacted[task_id] = task
    result = dict(workflow)
    result["tasks"] = compacted
    if result.get("last_task") not in compacted:
        result["last_task"] = None
    return result


def _is_tree(tasks: Tasks, root: str | None) -> bool:
    """Every task's parent exists and lists it, and the root is reached from each task."""
    if root not in tasks or tasks[root].get("parent") is not None:
        return False
    for task_id, task in tasks.items():
        parent = task.get("parent")
        if task_id != root and (parent not in tasks or task_id not in tasks[parent].get("children", ())):
            return False
        if any(child not in tasks for child in task.get("children", ())):
            return False
    return sum(1 for _ in _preorder(tasks, root)) == len(tasks)


def _needed(tasks: Tasks, root: str, process_spec, last_task: str | None) -> set[str]:
    """The tasks the engine can still read (see the module's docstring)."""
    task_specs = process_spec.task_specs
    keep = {root}
    if last_task in tasks:
        keep.add(last_task)
    by_spec: dict[str, list[str]] = {}
    for task_id, task in tasks.items():
        by_spec.setdefault(task["task_spec"], []).append(task_id)
    for task_id, task in tasks.items():
        if task["state"] & DONE:
            continue
        keep.add(task_id)
        if task["parent"] is not None:
            keep.add(task["parent"])
        keep.update(task["children"])
        task_spec = task_specs.get(task["task_spec"])
        if isinstance(task_spec, UnstructuredJoin):
            if not isinstance(task_spec, _EndJoin) and task["state"] & (TaskState.WAITING | TaskState.READY):
                for other in by_spec[task["task_spec"]]:
                    keep.add(other)
                    if tasks[other]["parent"] is not None:
                        keep.add(tasks[other]["parent"])
        elif isinstance(task_spec, Join) and task_spec.split_task:
            split = _nearest_ancestor(tasks, task_id, task_spec.split_task)
            if split is not None:
                keep.add(split)
                keep.update(tasks[split]["children"])
    return keep


def _nearest_ancestor(tasks: Tasks, task_id: str, spec_name: str) -> str | None:
    """As `Task.find_ancestor`: the closest ancestor whose spec has this name."""
    current = tasks[task_id]["parent"]
    while current is not None:
        if tasks[current]["task_spec"] == spec_name:
            return current
        current = tasks[current]["parent"]
    return None


def _contract(tasks: Tasks, root: str, keep: set[str]):
    """The kept tasks parents first, each one's nearest kept ancestor, and their new children.

    Children keep their original order (the engine runs ready tasks in tree order)."""
    order: list[str] = []
    parents: dict[str, str | None] = {root: None}
    children: dict[str, list[str]] = {}
    stack: list[tuple[str, str | None]] = [(root, None)]  # (task, nearest kept ancestor)
    while stack:
        task_id, kept_above = stack.pop()
        if task_id in keep:
            order.append(task_id)
            children[task_id] = []
            if kept_above is not None:
                parents[task_id] = kept_above
                children[kept_above].append(task_id)
            kept_above = task_id
        stack.extend((child, kept_above) for child in reversed(tasks[task_id]["children"]))
    return order, parents, children


def _preorder(tasks: Tasks, root: str) -> Iterator[str]:
    stack, seen = [root], set()
    while stack:
        task_id = stack.pop()
        if task_id in seen:  # a cycle: not a tree
            return
        seen.add(task_id)
        yield task_id
        stack.extend(reversed(tasks[task_id].get("children", ())))


class _Materialised:
    """Each task's full data, rebuilt as `TaskConverter.from_dict` does: the parent's, then the delta."""

    def __init__(self, tasks: Tasks):
        self.tasks = tasks
        self.known: dict[str, dict[str, Any]] = {}

    def of(self, task_id: str) -> dict[str, Any]:
        chain = []
        current: str | None = task_id
        while current is not None and current not in self.known:
            chain.append(current)
            current = self.tasks[current]["parent"]
        for step in reversed(chain):
            task = self.tasks[step]
            delta, parent = task.get("delta"), task["parent"]
            if delta and parent is not None:
                data = dict(self.known[parent])
                data.update(delta.get("updates", {}))
                for key in delta.get("deletions", ()):
                    data.pop(key, None)
            else:
                data = task.get("data") or {}
            self.known[step] = data
        return self.known[task_id]


def _delta(parent: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """As `TaskConverter.to_dict` writes it."""
    return {
        "updates": {key: value for key, value in data.items() if key not in parent or parent[key] != value},
        "deletions": [key for key in parent if key not in data],
    }

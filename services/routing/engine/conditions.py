"""The values routes are decided on, checked on deploy: a gateway's condition comparing a choice
field with a value no form offers for it never holds, and a decision table's rule naming a queue the
mall does not have sends its complaints nowhere a person looks; either way the case silently takes
another route.

`outcome == "solved"` where the handler's form offers resolved / escalate / ask_department deploys,
passes a dry run whose probes only try the form's own values, and sends every resolution down the
default flow (an escalation). Conditions are Python (see scripts.py); what is read here is only the
plain comparisons of a name with text (`==`, `!=`, `in`, `not in` a list of texts), the shape a
designer writes and the modeler generates.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin, InclusiveGatewayMixin, ScriptTaskMixin
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin

from services.routing.engine.form_files import FormField
from services.routing.engine.problems import Problem
from services.routing.engine.scripts import diagram_python, parse_python

_EQUALITY = (ast.Eq, ast.NotEq)
_MEMBERSHIP = (ast.In, ast.NotIn)
_LISTS = (ast.Tuple, ast.List, ast.Set)


def compared_values(text: str) -> Iterator[tuple[str, str]]:
    """(name, text) for each plain comparison of a name with text in a Python condition."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return  # the safety check names it
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        left, op, right = node.left, node.ops[0], node.comparators[0]
        if isinstance(op, _EQUALITY):
            for name, value in ((left, right), (right, left)):
                if isinstance(name, ast.Name) and _text(value) is not None:
                    yield name.id, _text(value)
        elif isinstance(op, _MEMBERSHIP) and isinstance(left, ast.Name) and isinstance(right, _LISTS):
            yield from ((left.id, _text(item)) for item in right.elts if _text(item) is not None)


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def condition_problems(
    processes: Iterable, forms: Iterable[tuple[FormField, ...]], file: str
) -> list[Problem]:
    """Each condition comparing a choice field (one no script assigns) with a value none of the
    diagram's forms offers for that field."""
    processes = list(processes)
    choices: dict[str, set[str]] = {}
    for form in forms:
        for item in form:
            if item.type == "enum":
                choices.setdefault(item.id, set()).update(option[0] for option in item.options)
    for name in _assigned_by_scripts(processes):
        choices.pop(name, None)  # a script may give it values no form offers
    found = []
    for gateway in _gateways(processes):
        for condition, target in gateway.cond_task_specs:
            if condition is None:
                continue
            for name, value in compared_values(condition.args[0]):
                if name in choices and value not in choices[name]:
                    found.append(_problem(gateway, target, name, value, choices[name], file))
    return found


# The decision output the triage's gateway routes on (bpmn/triage.dmn's `queue`).
QUEUE_OUTPUT = "queue"


def decision_queue_problems(processes: Iterable, queues: set[str], file: str) -> list[Problem]:
    """Each decision-table rule whose `queue` output is a text that is not one of the mall's queues
    ("floor_supervisr": the merchant complaints went to the default route, the operations manager)."""
    found = []
    for task_spec, rule, value in _queues_decided(processes):
        if value not in queues:
            params = {"rule": rule.id, "value": value, "queues": ", ".join(sorted(queues))}
            found.append(
                Problem("decision_queue_unknown", task_spec.bpmn_id, file, task_spec.bpmn_name, params)
            )
    return found


def _queues_decided(processes: Iterable) -> Iterator[tuple]:
    """(business rule task, rule, text) for each rule whose `queue` output is a plain text."""
    for process in processes:
        for task_spec in process.task_specs.values():
            if not isinstance(task_spec, BusinessRuleTaskMixin):
                continue
            for rule in task_spec.dmnEngine.decision_table.rules:
                for entry in rule.outputEntries:
                    value = _literal(getattr(entry, "text", None))
                    if getattr(entry.output, "name", None) == QUEUE_OUTPUT and value is not None:
                        yield task_spec, rule, value


def _literal(text: str | None) -> str | None:
    """The text a rule's output entry gives, when it is a plain text ("store_manager")."""
    try:
        return _text(ast.parse((text or "").strip(), mode="eval").body)
    except SyntaxError:
        return None


def _problem(gateway, target: str, name: str, value: str, offered: set[str], file: str) -> Problem:
    params = {"field": name, "value": value, "target": target, "options": ", ".join(sorted(offered))}
    return Problem("condition_value_unknown", gateway.bpmn_id, file, gateway.bpmn_name, params)


def _gateways(processes: list) -> Iterator:
    for process in processes:
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, ExclusiveGatewayMixin | InclusiveGatewayMixin):
                yield task_spec


def names_read(spec, subprocess_specs: dict) -> set[str]:
    """Every name the diagram's Python reads (conditions, scripts, expressions, timers, decision
    tables: `scripts.diagram_python`): the task data a route can depend on (a form's choice nothing
    reads, such as the department asked, decides none)."""
    names = set()
    for _task_spec, text, mode, _what in diagram_python(spec, subprocess_specs):
        try:
            tree = parse_python(str(text or "").strip() or "None", mode)
        except SyntaxError:
            continue
        names.update(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    return names


def _assigned_by_scripts(processes: list) -> set[str]:
    """Every name a script task assigns (`outcome = …`)."""
    names = set()
    for process in processes:
        for task_spec in process.task_specs.values():
            if not isinstance(task_spec, ScriptTaskMixin) or not task_spec.script:
                continue
            try:
                tree = ast.parse(task_spec.script)
            except SyntaxError:
                continue
            names.update(
                node.id
                for node in ast.walk(tree)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
            )
    return names

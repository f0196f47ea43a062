"""Parsing and validating a deployed diagram (BPMN plus its DMN files)."""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaEventDefinitionParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from services.common.bus.events import NOTIFY_PARTIES, STEP_EVENTS
from services.common.identity.model import Role
from services.routing.engine.conditions import condition_problems, decision_queue_problems
from services.routing.engine.foreign import foreign_problems, is_juel
from services.routing.engine.form_files import FormField, camunda_fields, json_schema_fields
from services.routing.engine.problems import Problem, render
from services.routing.engine.scripts import SYNTAX_ERROR, diagram_python, problems_in
from services.routing.engine.spiff import FORM_PROPERTY, HUMAN_TASKS, MallSpiffParser, is_spiff
from services.routing.engine.timers import (
    ISO_KINDS,
    ClockTimersMixin,
    is_zero_duration,
    literal_gateway_timer,
    literal_timer,
    meant_as_iso,
    timer_kind,
    written_kind,
)

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


class DiagramError(Exception):
    """A diagram that cannot be deployed: every problem found (`problems`), in English as its message;
    `element` and `file` are the first problem's."""

    def __init__(
        self,
        message: str,
        element: str | None = None,
        file: str | None = None,
        problems: list[Problem] | None = None,
    ):
        super().__init__(message)
        self.element = element
        self.file = file
        self.problems = problems or []

    @classmethod
    def of(cls, problems: list[Problem]) -> DiagramError:
        first = problems[0]
        return cls("; ".join(render(problem) for problem in problems), first.element, first.file, problems)


@dataclass(frozen=True)
class UserTaskInfo:
    element_id: str
    title: str
    queue: str
    form: tuple[FormField, ...]
    documentation: str | None = None
    instructions: str | None = None  # what the person is told to do (spiff-arena's instructionsForEndUser)
    titles: dict[str, str] = field(default_factory=dict)  # the title in each language (see `element_names`)


@dataclass(frozen=True)
class Diagram:
    """A parsed, validated diagram: the specs the engine runs, and what routing needs to know."""

    process_id: str
    spec: object
    subprocess_specs: dict
    user_tasks: dict[str, UserTaskInfo] = field(default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # element id -> language -> name

    def announced_events(self) -> set[str]:
        """The events its elements announce (their `event` property): what other services count."""
        return {
            task_spec.extensions["event"]
            for spec in [self.spec, *self.subprocess_specs.values()]
            for task_spec in spec.task_specs.values()
            if (getattr(task_spec, "extensions", None) or {}).get("event")
        }

    def start_events(self) -> list[tuple[str, str | None, str | None, dict[str, Any]]]:
        """(id, name, lane, extensions) of the start events a new case passes before any of the
        diagram's Python runs (those of no timer or message): what they announce (the customer's
        acknowledgement) is owed even when a step after them fails and stops the case."""
        return [
            (spec.bpmn_id, spec.bpmn_name, spec.lane, dict(spec.extensions or {}))
            for spec in self.spec.start.outputs
            if isinstance(spec, StartEvent) and isinstance(spec.event_definition, NoneEventDefinition)
        ]

    def caught_messages(self) -> set[str]:
        """The names of the messages its catch events (and receive tasks) wait for: all a case of it
        can be sent."""
        return {
            task_spec.event_definition.name
            for spec in [self.spec, *self.subprocess_specs.values()]
            for task_spec in spec.task_specs.values()
            if isinstance(task_spec, CatchingEvent)
            and isinstance(getattr(task_spec, "event_definition", None), MessageEventDefinition)
        }


class _UserTaskParser(UserTaskParser):
    """Keeps camunda:candidateGroups and camunda:assignee, which the stock parser drops."""

    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        for name in ("candidateGroups", "assignee", "dueDate", "priority"):
            value = self.attribute(name, "camunda")
            if value is not None:
                extensions[name] = value
        return extensions


class _Properties:
    """camunda:properties on events too (the stock parser reads them only on tasks)."""

    def parse_extensions(self, node=None):
        nodes = self.xpath(".//bpmn:extensionElements/camunda:properties/camunda:property")
        return {item.get("name"): item.get("value") for item in nodes}


class _StartEventParser(_Properties, ClockTimersMixin, CamundaStartEventParser):
    pass


class _CatchEventParser(_Properties, ClockTimersMixin, CamundaIntermediateCatchEventParser):
    pass


class _BoundaryEventParser(_Properties, ClockTimersMixin, CamundaBoundaryEventParser):
    pass


class _EndEventParser(_Properties, CamundaEndEventParser):
    pass


class _ReceiveTaskParser(_Properties, CamundaEventDefinitionParser, ReceiveTaskParser):
    """A receive task waits for its message with Camunda's definition, as a message catch event does,
    so that a message sent through the API reaches it."""


class _ThrowEventParser(_Properties, CamundaIntermediateThrowEventParser):
    pass


# Elements whose stock parser ignores camunda:properties; they get the same reading as tasks.
_PROPERTIES_TAGS = (
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
)


def _reading_properties(tag: str):
    parser_class, spec_class = (
        CamundaParser.OVERRIDE_PARSER_CLASSES.get(full_tag(tag))
        or CamundaParser.PARSER_CLASSES[full_tag(tag)]
    )
    return type(f"_{parser_class.__name__}WithProperties", (_Properties, parser_class), {}), spec_class


class MallParser(CamundaParser):
    """Camunda Modeler and bpmn.io diagrams, with candidate groups and clock-driven timers."""

    OVERRIDE_PARSER_CLASSES = {  # noqa: RUF012 (the library's own class attribute)
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        **{full_tag(tag): _reading_properties(tag) for tag in _PROPERTIES_TAGS},
        full_tag("userTask"): (_UserTaskParser, UserTask),
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("intermediateCatchEvent"): (_CatchEventParser, IntermediateCatchEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
        full_tag("endEvent"): (_EndEventParser, EndEvent),
        full_tag("intermediateThrowEvent"): (_ThrowEventParser, IntermediateThrowEvent),
        full_tag("receiveTask"): (_ReceiveTaskParser, ReceiveTask),
    }


def parse_diagram(
    bpmn: bytes,
    dmn: dict[str, bytes],
    queues: set[str],
    bpmn_name: str = "diagram.bpmn",
    forms: dict[str, bytes] | None = None,
    called: dict[str, bytes] | None = None,
) -> Diagram:
    """Parse and check a diagram; raise DiagramError listing every problem found, each naming the
    element and file at fault (see `problems`).

    `forms` are the JSON-schema form files a spiff-arena diagram's user tasks name; `called` the BPMN
    of deployed processes its call activities call (by process key), which run as part of it."""
    called = called or {}
    root = _xml(bpmn, bpmn_name)
    for name, text in dmn.items():
        _xml(text, name)
    found = _dangling_flows(root, bpmn_name) + foreign_problems(root, bpmn_name, set(called))
    process_id, process_problems = _main_process(root, bpmn_name)
    found += process_problems
    readable = _engine_readable(root, bpmn, found)
    spec, subprocess_specs = _read(root, readable, bpmn_name, dmn, called, process_id, found)
    processes = [spec, *subprocess_specs.values()]
    found += _lane_problems(root, [process_id, *subprocess_specs], queues, bpmn_name)
    found += _python_problems(spec, subprocess_specs, bpmn_name)
    found += [problem for each in processes for problem in _announcement_problems(each, queues, bpmn_name)]
    found += [problem for each in processes for problem in _cycle_problems(each, bpmn_name)]
    names = element_names(root)
    user_tasks, task_problems = _user_tasks(processes, queues, bpmn_name, forms or {}, names)
    found += task_problems
    found += condition_problems(processes, [info.form for info in user_tasks], bpmn_name)
    found += decision_queue_problems(processes, queues, bpmn_name)
    if found:
        raise DiagramError.of(_described(root, found))
    return Diagram(process_id, spec, subprocess_specs, {info.element_id: info for info in user_tasks}, names)


def _engine_readable(root, bpmn: bytes, found: list[Problem]) -> bytes:
    """What the engine reads to check the rest: the file, but with a flow found without a condition
    given one that never holds. The engine stops at such a flow, and every problem its reading would
    have led to (a task's queue, a form, a script) came one deploy later, after the designer fixed
    the flows: the refusal now names them all at once. The file deployed is never this one."""
    flows = {problem.element for problem in found if problem.code == "flow_without_condition"}
    if not flows:
        return bpmn
    copy = deepcopy(root)
    for flow in copy.xpath("//bpmn:sequenceFlow", namespaces=BPMN_NS):
        if flow.get("id") in flows:
            condition = etree.SubElement(flow, f"{{{BPMN_NS['bpmn']}}}conditionExpression")
            condition.text = "False"
    return etree.tostring(copy)


def _read(
    root,
    bpmn: bytes,
    bpmn_name: str,
    dmn: dict[str, bytes],
    called: dict[str, bytes],
    process_id: str | None,
    found: list[Problem],
) -> tuple:
    """The engine's specs of the process and of what it calls; what stops the engine is a DiagramError
    with the problems `found` so far (which are what stopped it, unless it stopped at another element)."""
    parser = MallSpiffParser() if is_spiff(root) else MallParser()
    try:
        if process_id is None:
            raise DiagramError.of(found)
        parser.add_bpmn_str(bpmn, filename=bpmn_name)
        for key, text in called.items():
            parser.add_bpmn_str(text, filename=f"{key}.bpmn")
        for process in _called(root):  # a called process runs as part of its caller, ticked or not
            if process in parser.process_parsers:
                parser.process_parsers[process].process_executable = True
        for name, text in dmn.items():
            parser.add_dmn_str(text, filename=name)
        return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    except Exception as exc:
        raise DiagramError.of(_described(root, _with_engine_stop(found, exc, bpmn_name))) from exc


CAMUNDA_NS = {**BPMN_NS, "camunda": "http://camunda.org/schema/1.0/bpmn"}


def element_names(root) -> dict[str, dict[str, str]]:
    """{element id: {language: name}} for every named element: the camunda:properties `name.zh-CN`
    and `name.en` it has, and under "" its `name` (in whatever language the designer wrote it)."""
    found: dict[str, dict[str, str]] = {}
    for node in root.iter(f"{{{BPMN_NS['bpmn']}}}*"):
        element = node.get("id")
        properties = node.xpath(
            "bpmn:extensionElements/camunda:properties/camunda:property", namespaces=CAMUNDA_NS
        )
        given = {
            (prop.get("name") or "")[len("name.") :]: prop.get("value")
            for prop in properties
            if (prop.get("name") or "").startswith("name.") and prop.get("value")
        }
        if element and (given or node.get("name")):
            found[element] = {**given, "": node.get("name") or next(iter(given.values()))}
    return found


def _xml(text: bytes, name: str):
    try:
        return etree.fromstring(text, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DiagramError.of([Problem("not_xml", None, name, None, {"detail": str(exc)})]) from exc


def _dangling_flows(root, name: str) -> list[Problem]:
    """Every sequence flow joins two elements of the diagram (the engine's own message misleads)."""
    ids = set(root.xpath("//@id"))
    return [
        Problem(
            "dangling_flow", flow.get("id"), name, flow.get("name"), {"end": end, "target": flow.get(end)}
        )
        for flow in root.xpath(".//bpmn:sequenceFlow", namespaces=BPMN_NS)
        for end in ("sourceRef", "targetRef")
        if flow.get(end) not in ids
    ]


def _main_process(root, name: str) -> tuple[str | None, list[Problem]]:
    """The process a case runs: the one executable process no other process of the file calls (those
    it calls run as its call activities). None, with each process named, when there is not one."""
    processes = root.xpath("bpmn:process", namespaces=BPMN_NS)
    called = _called(root)
    executable = [process for process in processes if process.get("isExecutable") == "true"]
    main = [process for process in executable if process.get("id") not in called]
    if len(main) == 1:
        return main[0].get("id"), []
    if not main and not executable:
        named = processes or [root]
        return None, [
            Problem("process_not_executable", _pool_name(root, each)[0], name, _pool_name(root, each)[1])
            for each in named
        ]
    main = main or executable
    found = ", ".join(
        f"{pid} ({title})" if title else pid for pid, title in (_pool_name(root, each) for each in main)
    )
    return None, [
        Problem(
            "several_main_processes",
            *_pool_name(root, each)[:1],
            name,
            _pool_name(root, each)[1],
            {"count": len(main), "found": found},
        )
        for each in main
    ]


def _called(root) -> set[str]:
    return {call.get("calledElement") for call in root.xpath("//bpmn:callActivity", namespaces=BPMN_NS)}


def _pool_name(root, process) -> tuple[str | None, str | None]:
    """A process's id and its name, or its pool's when the process has none (Signavio, Bizagi)."""
    pool = root.xpath(
        "//bpmn:participant[@processRef=$id]/@name", id=process.get("id") or "", namespaces=BPMN_NS
    )
    return process.get("id"), process.get("name") or (pool[0] if pool else None)


def engine_problem(exc: Exception, file: str) -> Problem:
    """An engine stop the checks did not foresee, in the designer's words: the element it was at and
    its message without the library's internals (`<Element … at 0x…>`, doubled stops)."""
    text = str(exc).split("\n")[0]
    element = getattr(exc, "id", None) or None
    decision = re.search(r'No DMN Diagram available with id "([^"]*)"', text)
    if decision:
        return Problem("decision_not_deployed", element, file, None, {"decision": decision.group(1)})
    text = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>", r"\1", text)
    text = re.sub(r"\s+", " ", re.sub(r"[.。]\s*[.。]", ".", text)).strip().rstrip(".").strip()
    if not isinstance(exc, ValidationException):
        text = f"{type(exc).__name__} {text}".strip()
    return Problem(
        "engine_cannot_read", element, getattr(exc, "file_name", None) or file, None, {"detail": text}
    )


def _with_engine_stop(found: list[Problem], exc: Exception, file: str) -> list[Problem]:
    if isinstance(exc, DiagramError):
        return found
    stop = engine_problem(exc, file)
    named = {problem.element for problem in found}
    if not found or (isinstance(exc, ValidationException) and stop.element and stop.element not in named):
        return [*found, stop]
    return found


def _described(root, problems: list[Problem]) -> list[Problem]:
    """Each problem with its element's name (one line) and BPMN type, from the XML; each once."""
    nodes = {node.get("id"): node for node in root.iter() if isinstance(node.tag, str) and node.get("id")}
    names = element_names(root)
    kept, seen = [], set()
    for problem in problems:
        node = nodes.get(problem.element)
        if node is not None:
            problem = replace(
                problem,
                name=problem.name or node.get("name"),
                kind=etree.QName(node).localname,
                names=names.get(problem.element, {}),
            )
        key = (problem.code, problem.element, tuple(sorted(map(str, problem.params.items()))))
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _lane_problems(root, process_ids: list[str], queues: set[str], name: str) -> list[Problem]:
    lanes = [
        lane
        for process_id in process_ids
        for lane in root.xpath(
            ".//bpmn:process[@id=$process]//bpmn:lane", process=process_id, namespaces=BPMN_NS
        )
    ]
    return [
        Problem(
            "lane_not_queue",
            lane.get("id"),
            name,
            lane.get("name"),
            {"lane": lane.get("name"), "queues": ", ".join(sorted(queues))},
        )
        for lane in lanes
        if lane.get("name") not in queues
    ]


def _python_problems(spec, subprocess_specs, name: str) -> list[Problem]:
    """Every script, condition, timer and DMN expression that fails the safety check (timers written
    as ISO 8601 text are taken as such; cron and JUEL are named for what they are)."""
    found = []
    for task_spec, text, mode, what in diagram_python(spec, subprocess_specs):
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        title = getattr(task_spec, "bpmn_name", None)
        if what == "timer" and written_kind(task_spec) is None:
            literal_gateway_timer(task_spec, text)  # checked on its own event
            continue
        if what == "timer":
            kind = timer_kind(text)
            if kind in ISO_KINDS and kind != written_kind(task_spec):
                found.append(
                    Problem(
                        "timer_kind_mismatch",
                        element,
                        name,
                        title,
                        {"expression": text, "kind": kind, "written": written_kind(task_spec)},
                    )
                )
                continue
            if kind == "duration" and is_zero_duration(text):
                found.append(Problem("timer_zero", element, name, title, {"expression": text.strip()}))
                continue
            if kind in ISO_KINDS:
                literal_timer(task_spec, text)
                continue
            if kind is None and meant_as_iso(text):
                found.append(Problem("timer_not_iso", element, name, title, {"expression": text.strip()}))
                continue
            if kind is not None:
                found.append(
                    Problem("timer_not_supported", element, name, title, {"expression": text, "kind": kind})
                )
                continue
        if is_juel(text):  # a gateway's is named on its flow (see `foreign`)
            if what != "condition":
                found.append(
                    Problem("juel", element, name, title, {"expression": text.strip(), "what": what})
                )
            continue
        problems = problems_in(text, mode)
        if problems:
            # text that does not parse is a typing slip, not a refused construct: its own advice
            code = "python_syntax" if problems[0].startswith(SYNTAX_ERROR) else "python_refused"
            found.append(Problem(code, element, name, title, {"what": what, "detail": "; ".join(problems)}))
    return found


def _cycle_problems(spec, name: str) -> list[Problem]:
    """A cycle timer runs its path again each time it falls due, beside the task it waits on: a path
    of reminders (notify, scripts, end). A user task on it would not reach the queues."""
    found = []
    for task_spec in spec.task_specs.values():
        if written_kind(task_spec) != "cycle":
            continue
        seen, todo = set(), list(task_spec.outputs)
        while todo:
            after = todo.pop()
            if after.name in seen:
                continue
            seen.add(after.name)
            if isinstance(after, (UserTask, *HUMAN_TASKS)):
                found.append(
                    Problem(
                        "cycle_to_user_task",
                        task_spec.bpmn_id,
                        name,
                        task_spec.bpmn_name,
                        {"task": after.bpmn_name or after.bpmn_id},
                    )
                )
                break
            todo.extend(after.outputs)
    return found


def _announcement_problems(spec, queues: set[str], name: str) -> list[Problem]:
    """`event` names a known complaint event; `notify` comes with a `notify_to` we can reach."""
    parties = NOTIFY_PARTIES | queues
    found = []
    for task_spec in spec.task_specs.values():
        extensions = getattr(task_spec, "extensions", None) or {}
        event, notify, notify_to = (
            extensions.get("event"),
            extensions.get("notify"),
            extensions.get("notify_to"),
        )
        where = (task_spec.bpmn_id, name, task_spec.bpmn_name)
        if event is not None and event not in STEP_EVENTS:
            found.append(
                Problem("event_unknown", *where, {"event": event, "events": ", ".join(sorted(STEP_EVENTS))})
            )
        if notify is not None and notify_to not in parties:
            found.append(
                Problem(
                    "notify_to_unknown",
                    *where,
                    {"notify_to": notify_to, "parties": ", ".join(sorted(parties))},
                )
            )
        department = extensions.get("notify_department")
        if department is not None and (notify is None or notify_to != Role.DEPARTMENT_MANAGER):
            found.append(Problem("notify_department_alone", *where, {"field": department}))
    return found


def _user_tasks(
    processes: list, queues: set[str], name: str, forms: dict[str, bytes], names: dict[str, dict[str, str]]
) -> tuple[list[UserTaskInfo], list[Problem]]:
    """The user tasks of the process and of every sub-process and called process: each reaches its queue."""
    infos, found = [], []
    for task_spec in (task_spec for spec in processes for task_spec in spec.task_specs.values()):
        if not isinstance(task_spec, (UserTask, *HUMAN_TASKS)):
            continue
        where = (task_spec.bpmn_id, name, task_spec.bpmn_name)
        groups = [group.strip() for group in task_spec.extensions.get("candidateGroups", "").split(",")]
        queue = next((group for group in groups if group), None) or task_spec.lane
        listed = {"queue": queue, "queues": ", ".join(sorted(queues))}
        if queue is None:
            found.append(Problem("task_without_queue", *where, listed))
        elif queue not in queues:
            found.append(Problem("task_queue_unknown", *where, listed))
        form, problem = _form(task_spec, forms, name)
        if problem is not None:
            found.append(problem)
        infos.append(
            UserTaskInfo(
                element_id=task_spec.bpmn_id,
                title=task_spec.bpmn_name or task_spec.bpmn_id,
                queue=queue or "",
                form=form,
                documentation=task_spec.documentation,
                instructions=task_spec.extensions.get("instructionsForEndUser") or task_spec.documentation,
                titles=names.get(task_spec.bpmn_id, {}),
            )
        )
    return infos, found


def _form(task_spec, forms: dict[str, bytes], name: str) -> tuple[tuple[FormField, ...], Problem | None]:
    """A Camunda form, or the JSON-schema file a spiff-arena task names (deployed with the diagram)."""
    where = (task_spec.bpmn_id, name, task_spec.bpmn_name)
    file = task_spec.extensions.get(FORM_PROPERTY)
    if file is None:
        try:
            return camunda_fields(task_spec), None
        except ValueError as exc:
            return (), Problem("form", *where, {"detail": str(exc)})
    if file not in forms:
        return (), Problem("form_file_missing", *where, {"form": file})
    try:
        return json_schema_fields(forms[file]), None
    except ValueError as exc:
        return (), Problem("form", task_spec.bpmn_id, file, task_spec.bpmn_name, {"detail": f"{file}: {exc}"})

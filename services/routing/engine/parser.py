"""Parsing and validating a deployed diagram (BPMN plus its DMN files)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    StartEvent,
)
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateCatchEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from services.common.bus.envelope import NOTIFY_PARTIES, STEP_EVENTS
from services.routing.engine.forms import FormField, camunda_fields, json_schema_fields
from services.routing.engine.scripts import diagram_python, problems_in
from services.routing.engine.spiff import FORM_PROPERTY, HUMAN_TASKS, MallSpiffParser, is_spiff
from services.routing.engine.timers import ClockTimersMixin

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


class DiagramError(Exception):
    """A diagram that cannot be deployed; names the element and file at fault when known."""

    def __init__(self, message: str, element: str | None = None, file: str | None = None):
        super().__init__(message)
        self.element = element
        self.file = file


@dataclass(frozen=True)
class UserTaskInfo:
    element_id: str
    title: str
    queue: str
    form: tuple[FormField, ...]
    documentation: str | None = None
    instructions: str | None = None  # what the person is told to do (spiff-arena's instructionsForEndUser)


@dataclass(frozen=True)
class Diagram:
    """A parsed, validated diagram: the specs the engine runs, and what routing needs to know."""

    process_id: str
    spec: object
    subprocess_specs: dict
    user_tasks: dict[str, UserTaskInfo] = field(default_factory=dict)


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


class _ThrowEventParser(_Properties, CamundaIntermediateThrowEventParser):
    pass


# Elements whose stock parser ignores camunda:properties; they get the same reading as tasks.
_PROPERTIES_TAGS = (
    "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
)  # fmt: skip


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
    }


def parse_diagram(
    bpmn: bytes,
    dmn: dict[str, bytes],
    queues: set[str],
    bpmn_name: str = "diagram.bpmn",
    forms: dict[str, bytes] | None = None,
) -> Diagram:
    """Parse and check a diagram; raise DiagramError naming what is wrong and where.

    `forms` are the JSON-schema form files a spiff-arena diagram's user tasks name."""
    root = _xml(bpmn, bpmn_name)
    for name, text in dmn.items():
        _xml(text, name)
    _check_flows(root, bpmn_name)
    parser = MallSpiffParser() if is_spiff(root) else MallParser()
    try:
        parser.add_bpmn_str(bpmn, filename=bpmn_name)
        for name, text in dmn.items():
            parser.add_dmn_str(text, filename=name)
        process_id = _the_executable_process(parser, bpmn_name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise DiagramError(str(exc).split("\n")[0], exc.id or None, exc.file_name or bpmn_name) from exc
    except (SpiffWorkflowException, ValueError) as exc:
        raise DiagramError(str(exc), None, bpmn_name) from exc
    _check_lanes(root, process_id, queues, bpmn_name)
    _check_python(spec, subprocess_specs, bpmn_name)
    _check_announcements(spec, queues, bpmn_name)
    user_tasks = {info.element_id: info for info in _user_tasks(spec, queues, bpmn_name, forms or {})}
    return Diagram(process_id, spec, subprocess_specs, user_tasks)


def _xml(text: bytes, name: str):
    try:
        return etree.fromstring(text, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DiagramError(f"{name} is not well-formed XML: {exc}", None, name) from exc


def _check_flows(root, name: str) -> None:
    """Every sequence flow joins two elements of the diagram (the engine's own message misleads)."""
    ids = set(root.xpath("//@id"))
    for flow in root.xpath(".//bpmn:sequenceFlow", namespaces=BPMN_NS):
        for end in ("sourceRef", "targetRef"):
            if flow.get(end) not in ids:
                raise DiagramError(
                    f"sequence flow {flow.get('id')!r} has {end} {flow.get(end)!r}, which is not in the diagram",
                    flow.get("id"),
                    name,
                )


def _the_executable_process(parser: MallParser, name: str) -> str:
    process_ids = parser.get_process_ids()
    if len(process_ids) != 1:
        found = ", ".join(process_ids) or "none"
        raise DiagramError(f"expected exactly one executable process, found {found}", None, name)
    return process_ids[0]


def _check_lanes(root, process_id: str, queues: set[str], name: str) -> None:
    lanes = root.xpath(".//bpmn:process[@id=$process]//bpmn:lane", process=process_id, namespaces=BPMN_NS)
    for lane in lanes:
        if lane.get("name") not in queues:
            raise DiagramError(
                f"lane {lane.get('name')!r} is not a queue; name each lane after a role: {', '.join(sorted(queues))}",
                lane.get("id"),
                name,
            )


def _check_python(spec, subprocess_specs, name: str) -> None:
    for element, text, mode in diagram_python(spec, subprocess_specs):
        problems = problems_in(text, mode)
        if problems:
            raise DiagramError(f"refused Python in {element}: {'; '.join(problems)}", element, name)


def _check_announcements(spec, queues: set[str], name: str) -> None:
    """`event` names a known complaint event; `notify` comes with a `notify_to` we can reach."""
    parties = NOTIFY_PARTIES | queues
    for task_spec in spec.task_specs.values():
        extensions = getattr(task_spec, "extensions", None) or {}
        event, notify, notify_to = (
            extensions.get("event"),
            extensions.get("notify"),
            extensions.get("notify_to"),
        )
        if event is not None and event not in STEP_EVENTS:
            raise DiagramError(f"event {event!r} is not one of {', '.join(sorted(STEP_EVENTS))}",
                               task_spec.bpmn_id, name)  # fmt: skip
        if notify is not None and notify_to not in parties:
            raise DiagramError(f"notify_to {notify_to!r} must be one of {', '.join(sorted(parties))}",
                               task_spec.bpmn_id, name)  # fmt: skip


def _user_tasks(spec, queues: set[str], name: str, forms: dict[str, bytes]):
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, (UserTask, *HUMAN_TASKS)):
            continue
        groups = [group.strip() for group in task_spec.extensions.get("candidateGroups", "").split(",")]
        queue = next((group for group in groups if group), None) or task_spec.lane
        if queue not in queues:
            raise DiagramError(
                f"user task {task_spec.bpmn_id!r} goes to {queue!r}, which is not a queue; "
                f"set its lane or candidate group to one of {', '.join(sorted(queues))}",
                task_spec.bpmn_id,
                name,
            )
        yield UserTaskInfo(
            element_id=task_spec.bpmn_id,
            title=task_spec.bpmn_name or task_spec.bpmn_id,
            queue=queue,
            form=_form(task_spec, forms, name),
            documentation=task_spec.documentation,
            instructions=task_spec.extensions.get("instructionsForEndUser") or task_spec.documentation,
        )


def _form(task_spec, forms: dict[str, bytes], name: str) -> tuple[FormField, ...]:
    """A Camunda form, or the JSON-schema file a spiff-arena task names (deployed with the diagram)."""
    file = task_spec.extensions.get(FORM_PROPERTY)
    if file is None:
        try:
            return camunda_fields(task_spec)
        except ValueError as exc:
            raise DiagramError(f"user task {task_spec.bpmn_id!r} {exc}", task_spec.bpmn_id, name) from exc
    if file not in forms:
        raise DiagramError(f"user task {task_spec.bpmn_id!r} names the form {file!r}, which was not deployed "
                           f"with the diagram", task_spec.bpmn_id, name)  # fmt: skip
    try:
        return json_schema_fields(forms[file])
    except ValueError as exc:
        raise DiagramError(
            f"form {file} of user task {task_spec.bpmn_id!r} {exc}", task_spec.bpmn_id, file
        ) from exc

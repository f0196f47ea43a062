"""camunda:properties reach every kind of element, so any of them can announce a step."""

from pathlib import Path

from services.routing.domain.model import QUEUES
from services.routing.engine import parse_diagram

DIAGRAMS = Path(__file__).resolve().parents[1] / "data" / "routing"
PROPERTY = (
    '<bpmn:extensionElements><camunda:properties><camunda:property name="event" value="complaint.resolved"/>'
    "</camunda:properties></bpmn:extensionElements>"
)


def with_property(text: str, opening: str) -> str:
    start = text.index(opening)
    end = text.index(">", start)
    return text[: end + 1] + PROPERTY + text[end + 1 :]


def test_gateways_and_script_tasks_keep_their_properties():
    text = (DIAGRAMS / "bad_script_import.bpmn").read_text(encoding="utf-8")
    text = text.replace('import os\nos.system("id")', "x = 1")
    text = with_property(
        with_property(text, '<bpmn:exclusiveGateway id="route_gw"'), '<bpmn:scriptTask id="sneaky"'
    )
    dmn = {"triage_v1.dmn": (DIAGRAMS / "triage_v1.dmn").read_bytes()}

    diagram = parse_diagram(text.encode(), dmn, set(QUEUES))

    assert diagram.spec.task_specs["route_gw"].extensions == {"event": "complaint.resolved"}
    assert diagram.spec.task_specs["sneaky"].extensions == {"event": "complaint.resolved"}

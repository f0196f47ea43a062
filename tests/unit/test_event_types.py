"""The message types are named once (services/common/bus/events.py): no service writes one by hand,
each is sent or read somewhere, its fields are its schema's, and docs/amqp.md lists them all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from services.common.bus import events
from services.common.bus.envelope import PAYLOAD_SCHEMAS
from services.routing.entrypoints import schemas as routing_schemas

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
CATALOGUE = {**events.EVENTS, **events.COMMANDS}
TYPE = re.compile(r"^(complaint|task|case|retention|reference|notification|capa)\.[a-z_]+$")
FILE_NAME = re.compile(r"\.(html|bpmn|dmn|json|md)$")
# The console publishes and reads no message (it lists STEP_EVENTS from the module); its Flask endpoint
# names and message ids have the same shape ("capa.record", "case.status").
NOT_MESSAGES = {SERVICES / "console"}
CONSTANT_OF = {
    value: name for name, value in vars(events).items() if isinstance(value, str) and value in CATALOGUE
}


def _python_files():
    for path in sorted(SERVICES.rglob("*.py")):
        if path != SERVICES / "common/bus/events.py" and not any(
            part in path.parents for part in NOT_MESSAGES
        ):
            yield path


def test_no_service_writes_a_message_type_by_hand():
    literals = {
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for path in _python_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and TYPE.match(node.value)
        and not FILE_NAME.search(node.value)
    }
    assert not literals, "import the constant from services/common/bus/events.py instead"


def test_every_declared_type_is_sent_or_read_somewhere():
    code = "\n".join(path.read_text() for path in _python_files() if path.name != "envelope.py")
    diagram = (ROOT / "bpmn/complaint.bpmn").read_text()
    unused = [
        name
        for name in CATALOGUE
        if not re.search(rf"\b{CONSTANT_OF[name]}\b", code) and f'value="{name}"' not in diagram
    ]
    assert not unused


def test_every_payload_schema_has_the_declared_fields():
    assert set(PAYLOAD_SCHEMAS) <= set(events.EVENTS)
    for name, schema in PAYLOAD_SCHEMAS.items():
        assert set(schema._declared_fields) == set(events.EVENTS[name].fields), name
    commands = {
        events.TASK_COMPLETE: routing_schemas.CompleteCommand,
        events.CASE_MESSAGE: routing_schemas.MessageCommand,
    }
    for name, schema in commands.items():
        # the case a message is for is the envelope's complaint_id, not a payload field
        keys = {field.data_key or key for key, field in schema._declared_fields.items()} - {"complaint_id"}
        assert keys == set(events.COMMANDS[name].fields), name


def test_the_amqp_document_lists_every_type():
    rows = [
        f"| `{kind.name}` | {kind.publisher} | {', '.join(f'`{field}`' for field in kind.fields)} | {kind.meaning} |"
        for kind in CATALOGUE.values()
    ]
    table = "\n".join(["| type | sent by | payload fields | meaning |", "|---|---|---|---|", *rows])
    assert table in (ROOT / "docs/amqp.md").read_text(), f"docs/amqp.md should hold this table:\n{table}"

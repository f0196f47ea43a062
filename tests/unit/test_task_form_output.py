"""A task's form goes out as stored (`StoredForm`), exactly as marshmallow's field-by-field dump of
FormFieldOut wrote it: the same keys, in the same order, with the same values."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from marshmallow import fields

from services.routing.domain.model import QUEUES
from services.routing.engine import parse_diagram
from services.routing.entrypoints.schemas import FormFieldOut, TaskOut

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_every_form_of_the_shipped_diagram_is_written_out_as_the_field_by_field_dump_wrote_it():
    dmn = {path.name: path.read_bytes() for path in BPMN.glob("*.dmn")}
    diagram = parse_diagram((BPMN / "complaint.bpmn").read_bytes(), dmn, set(QUEUES), "complaint.bpmn")
    walked = fields.List(fields.Nested(FormFieldOut))
    forms = [[asdict(field) for field in task.form] for task in diagram.user_tasks.values()]

    for form in forms:
        stored = json.loads(json.dumps(form))  # as the task row gives it back
        written = TaskOut().dump({"form": stored})["form"]
        assert json.dumps(written) == json.dumps(walked.serialize("form", {"form": stored}))
    assert sum(len(form) for form in forms) > 50


def test_a_key_the_response_does_not_declare_stays_out_and_a_missing_one_is_left_out():
    stored = [{"id": "outcome", "label": "结果", "type": "enum", "internal": "x"}]

    assert TaskOut().dump({"form": stored})["form"] == [{"id": "outcome", "label": "结果", "type": "enum"}]

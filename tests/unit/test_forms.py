"""Form fields required only when another field has a value (`required_when`), and text fields that
suggest a reference list (`choices_from`): parsed from a Camunda form or a JSON-schema form, refused
on deploy when they cannot hold, enforced on completion."""

import json
from pathlib import Path

import pytest

from services.routing.domain.form_checks import check_form
from services.routing.domain.model import QUEUES
from services.routing.engine import DiagramError, parse_diagram
from services.routing.engine.form_files import json_schema_fields

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = (ROOT / "bpmn" / "complaint.bpmn").read_text(encoding="utf-8")
DMN = {"triage.dmn": (ROOT / "bpmn" / "triage.dmn").read_bytes()}
OUTCOME = {
    "id": "outcome",
    "type": "enum",
    "required": True,
    "options": [["resolved", "Resolved"], ["ask_department", "Ask another department"]],
}
ASKED = {"id": "department_asked", "type": "string", "required_when": [["outcome", "ask_department"]]}
FORM = [OUTCOME, ASKED]


def test_a_conditional_field_is_required_only_when_its_condition_holds():
    _, asking_without = check_form(FORM, {"outcome": "ask_department"})
    _, asking_blank = check_form(FORM, {"outcome": "ask_department", "department_asked": "  "})
    clean, asking_with = check_form(FORM, {"outcome": "ask_department", "department_asked": "engineering"})
    _, resolved = check_form(FORM, {"outcome": "resolved"})

    assert asking_without == asking_blank == {"department_asked": ["required when outcome is ask_department"]}
    assert asking_with == {} and clean["department_asked"] == "engineering"
    assert resolved == {}


def test_a_condition_on_a_yes_no_field_compares_true_and_false():
    form = [
        {"id": "signed", "type": "boolean"},
        {"id": "signed_at", "type": "date", "required_when": [["signed", "true"]]},
    ]

    assert check_form(form, {"signed": True})[1] == {"signed_at": ["required when signed is true"]}
    assert check_form(form, {"signed": False})[1] == {}


def test_the_shipped_diagram_asks_for_the_department_whenever_a_level_asks_one_to_act():
    diagram = parse_diagram(SHIPPED.encode(), DMN, set(QUEUES))

    asking = [
        element
        for element, info in diagram.user_tasks.items()
        if any(f.id == "department_asked" for f in info.form)
    ]
    for element in asking:
        fields = {f.id: f for f in diagram.user_tasks[element].form}
        assert fields["department_asked"].required_when == (("outcome", "ask_department"),), element
        assert fields["department_request"].required_when == (("outcome", "ask_department"),), element
    assert len(asking) == 6
    signed = {f.id: f for f in diagram.user_tasks["reply_in_person"].form}["customer_signed_at"]
    assert signed.required_when == (("customer_signed", "true"),)


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ("outcome", "write it as <field>=<value>"),
        ("colour=red", "the form has no other field 'colour'"),
        ("outcome=maybe", "'outcome' takes only resolved, escalate, ask_department"),
    ],
)
def test_a_condition_that_cannot_hold_is_refused_on_deploy_naming_the_task(config, why):
    text = SHIPPED.replace(
        '<camunda:constraint name="required_when" config="outcome=ask_department"/>',
        f'<camunda:constraint name="required_when" config="{config}"/>',
        1,
    )

    with pytest.raises(DiagramError, match=why) as refused:
        parse_diagram(text.encode(), DMN, set(QUEUES))

    assert refused.value.element == "handle_desk"


def test_a_json_schema_form_says_it_with_if_then():
    schema = {
        "type": "object",
        "required": ["outcome"],
        "properties": {
            "outcome": {"type": "string", "enum": ["resolved", "ask_department"]},
            "department_asked": {"type": "string"},
            "signed": {"type": "boolean"},
            "signed_at": {"type": "string", "format": "date"},
        },
        "allOf": [
            {
                "if": {"properties": {"outcome": {"const": "ask_department"}}},
                "then": {"required": ["department_asked"]},
            },
            {"if": {"properties": {"signed": {"const": True}}}, "then": {"required": ["signed_at"]}},
        ],
    }

    fields = {f.id: f for f in json_schema_fields(json.dumps(schema).encode())}

    assert fields["department_asked"].required_when == (("outcome", "ask_department"),)
    assert fields["signed_at"].required_when == (("signed", "true"),)
    with pytest.raises(ValueError, match="no other field 'colour'"):
        json_schema_fields(
            json.dumps(
                {
                    **schema,
                    "if": {"properties": {"colour": {"const": "red"}}},
                    "then": {"required": ["signed_at"]},
                }
            ).encode()
        )


def test_every_level_that_asks_a_department_suggests_the_malls_departments_and_every_reply_the_canned_replies():
    diagram = parse_diagram(SHIPPED.encode(), DMN, set(QUEUES))

    suggesting = {
        element: {f.id: f.choices_from for f in info.form if f.choices_from}
        for element, info in diagram.user_tasks.items()
    }

    levels = (
        "handle_desk",
        "handle_floor",
        "handle_department",
        "handle_ops",
        "handle_deputy",
        "handle_store",
    )
    replies = ("reply", "reply_written", "reply_in_person")
    assert {element: found for element, found in suggesting.items() if found} == {
        **{element: {"department_asked": "departments"} for element in levels},
        **{element: {"reply_template": "reply_templates"} for element in replies},
    }


OUTCOME_FIELD = '<camunda:formField id="outcome" label="Outcome" type="enum">'
OFFERING = (
    '<camunda:properties><camunda:property id="choices_from" value="departments"/></camunda:properties>'
)


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (
            'value="departments"',
            'value="shops"',
            "the lists a field can offer are departments, floors, reply_templates",
        ),
        (OUTCOME_FIELD, OUTCOME_FIELD + OFFERING, "only a text \\(string\\) field can offer a list"),
    ],
    ids=["an unknown list", "a list on a choice field"],
)
def test_a_list_a_field_cannot_offer_is_refused_on_deploy_naming_the_task(old, new, why):
    with pytest.raises(DiagramError, match=why) as refused:
        parse_diagram(SHIPPED.replace(old, new, 1).encode(), DMN, set(QUEUES))

    assert refused.value.element == "handle_desk"


def test_a_json_schema_form_names_the_list_with_x_choices_from():
    schema = {
        "type": "object",
        "properties": {
            "department_asked": {"type": "string", "x-choices-from": "departments"},
            "note": {"type": "string"},
        },
    }

    fields = {f.id: f for f in json_schema_fields(json.dumps(schema).encode())}

    assert fields["department_asked"].choices_from == "departments" and fields["note"].choices_from is None
    schema["properties"]["note"]["x-choices-from"] = "colours"
    with pytest.raises(ValueError, match="with choices from 'colours'"):
        json_schema_fields(json.dumps(schema).encode())

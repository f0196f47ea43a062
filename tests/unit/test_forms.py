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
DEPARTMENTS = json.loads((ROOT / "services/intake/seed/demo_mall.json").read_text(encoding="utf-8"))[
    "departments"
]
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


def test_every_level_that_asks_a_department_offers_only_the_malls_departments_and_every_reply_the_canned_replies():
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
        element: {"reply_template": "reply_templates"} for element in replies
    }
    # the department asked is a choice: a name outside the mall's departments is refused
    for element in levels:
        [asked] = [f for f in diagram.user_tasks[element].form if f.id == "department_asked"]
        assert asked.type == "enum", element
        assert [code for code, _ in asked.options] == [item["code"] for item in DEPARTMENTS], element
        assert asked.option_labels["zh-CN"] == {item["code"]: item["name"] for item in DEPARTMENTS}, element


OUTCOME_FIELD = '<camunda:formField id="outcome" label="Outcome" type="enum">'
RESOLUTION_NAME = '<camunda:property id="label.zh-CN" value="处理经过及顾客同意的方案"/>'
OFFERING = (
    '<camunda:properties><camunda:property id="choices_from" value="departments"/></camunda:properties>'
)


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (
            RESOLUTION_NAME,
            RESOLUTION_NAME + '<camunda:property id="choices_from" value="shops"/>',
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


# Camunda Modeler's validations on a field of the shipped diagram's reply task, as it writes them
BOUNDED = (
    '<camunda:formField id="reply_text" label="What the customer was told" type="string">'
    '<camunda:validation><camunda:constraint name="required"/><camunda:constraint name="minlength" config="4"/>'
    '<camunda:constraint name="maxlength" config="10"/></camunda:validation></camunda:formField>'
    '<camunda:formField id="voucher" label="Voucher" type="long" defaultValue="50"><camunda:validation>'
    '<camunda:constraint name="readonly"/></camunda:validation></camunda:formField>'
    '<camunda:formField id="people" label="People" type="long"><camunda:validation>'
    '<camunda:constraint name="min" config="1"/><camunda:constraint name="max" config="99"/>'
    "</camunda:validation></camunda:formField>"
)


def _reply_form(fields: str) -> list[dict]:
    from dataclasses import asdict

    start = SHIPPED.index('<camunda:formField id="reply_text"', SHIPPED.index('<bpmn:userTask id="reply"'))
    end = SHIPPED.index("</camunda:formField>", start) + len("</camunda:formField>")
    diagram = parse_diagram((SHIPPED[:start] + fields + SHIPPED[end:]).encode(), DMN, set(QUEUES))
    return [asdict(field) for field in diagram.user_tasks["reply"].form]


def test_a_fields_bounds_and_read_only_from_camunda_modeler_are_kept_and_checked():
    form = _reply_form(BOUNDED)
    fields = {field["id"]: field for field in form}

    _, short = check_form(form, {"reply_text": "好的", "people": 0})
    _, long = check_form(form, {"reply_text": "已" * 11, "people": 100})
    _, changed = check_form(form, {"reply_text": "已经处理好了", "voucher": 500})
    kept, fine = check_form(form, {"reply_text": "已经处理好了", "people": 3, "voucher": "50"})

    assert fields["reply_text"]["limits"] == {"minlength": 4, "maxlength": 10}
    assert fields["people"]["limits"] == {"min": 1, "max": 99} and fields["voucher"]["readonly"] is True
    assert short == {"reply_text": ["must be at least 4 characters"], "people": ["must be at least 1"]}
    assert long == {"reply_text": ["must be at most 10 characters"], "people": ["must be at most 99"]}
    assert changed == {"voucher": ["read-only: it cannot be changed"]}
    assert fine == {} and kept == {"reply_text": "已经处理好了", "people": 3}


def test_an_amount_is_taken_in_yuan_and_fen_as_text_and_a_third_decimal_place_is_refused():
    form = _reply_form(
        '<camunda:formField id="reply_text" label="What the customer was told" type="string"/>'
        '<camunda:formField id="voucher" label="Voucher (yuan)" type="decimal"><camunda:validation>'
        '<camunda:constraint name="min" config="0"/></camunda:validation></camunda:formField>'
    )
    [voucher] = [field for field in form if field["id"] == "voucher"]

    amounts = [
        check_form(form, {"reply_text": "已经处理好了", "voucher": given}) for given in ("12.5", 30, 0.1)
    ]
    refused = {
        given: check_form(form, {"reply_text": "已经处理好了", "voucher": given})[1].get("voucher")
        for given in ("12.345", "十二元", True, "-1", "1e400", "NaN")
    }

    assert voucher["type"] == "decimal" and voucher["limits"] == {"min": 0}
    assert [kept["voucher"] for kept, errors in amounts if not errors] == ["12.50", "30.00", "0.10"]
    assert refused == {
        "12.345": ["must be an amount with at most two decimal places, e.g. 12.50"],
        "十二元": ["must be an amount with at most two decimal places, e.g. 12.50"],
        True: ["must be an amount with at most two decimal places, e.g. 12.50"],
        "-1": ["must be at least 0"],
        "1e400": ["must be an amount with at most two decimal places, e.g. 12.50"],
        "NaN": ["must be an amount with at most two decimal places, e.g. 12.50"],
    }


@pytest.mark.parametrize(
    ("constraint", "why"),
    [
        ('name="maxlength" config="lots"', "with maxlength 'lots'; write a whole number"),
        ('name="min" config="3"', "of type 'string' with min; minlength and maxlength bound a text"),
    ],
)
def test_a_bound_that_cannot_hold_is_refused_on_deploy_naming_the_task(constraint, why):
    field = (
        '<camunda:formField id="reply_text" label="What the customer was told" type="string">'
        f"<camunda:validation><camunda:constraint {constraint}/></camunda:validation></camunda:formField>"
    )
    with pytest.raises(DiagramError, match=why) as refused:
        _reply_form(field)

    assert refused.value.element == "reply"


def test_a_json_schema_form_bounds_its_fields_as_camunda_does():
    schema = {
        "type": "object",
        "properties": {
            "note": {"type": "string", "title": "Note", "maxLength": 200},
            "people": {"type": "integer", "title": "People", "minimum": 1, "readOnly": True, "default": 1},
            "cost": {"type": "number", "title": "Cost (yuan)", "minimum": 0},
        },
    }

    note, people, cost = json_schema_fields(json.dumps(schema).encode())

    assert note.limits == {"maxlength": 200} and not note.readonly
    assert people.limits == {"min": 1} and people.readonly
    assert cost.type == "decimal" and cost.limits == {"min": 0}


@pytest.mark.parametrize("kind", ["custom", "lnog", "number"])
def test_a_field_of_a_type_no_form_fills_in_is_refused_on_deploy_naming_it(kind):
    """Camunda Modeler's custom type, or a slip, was taken as free text: a cost typed "abc" passed."""
    field = f'<camunda:formField id="reply_text" label="What the customer was told" type="{kind}"/>'

    with pytest.raises(
        DiagramError, match=f"has field 'reply_text' of type '{kind}', which no form"
    ) as refused:
        _reply_form(field)

    assert refused.value.element == "reply"


def test_the_written_reply_asks_nothing_the_desk_cannot_know_when_the_letter_goes_out():
    """The customer's view of the outcome is heard when the desk speaks with them, not when a letter or
    an e-mail is sent: only the spoken replies ask for it."""
    diagram = parse_diagram(SHIPPED.encode(), DMN, set(QUEUES))

    asking = sorted(
        element
        for element, info in diagram.user_tasks.items()
        if any(f.id == "customer_view" for f in info.form)
    )

    assert asking == ["reply", "reply_in_person"]
    assert [f.id for f in diagram.user_tasks["reply_written"].form] == ["reply_template", "reply_text"]


def test_a_field_taken_only_when_another_holds_is_refused_otherwise_and_may_be_left_out():
    form = [
        {"id": "reached", "type": "boolean", "required": True},
        {
            "id": "satisfied",
            "type": "boolean",
            "required_when": [["reached", "true"]],
            "only_when": [["reached", "true"]],
        },
    ]

    assert check_form(form, {"reached": False, "satisfied": True}) == (
        {"reached": False},
        {"satisfied": ["only when reached is true"]},
    )
    assert check_form(form, {"reached": False}) == ({"reached": False}, {})
    assert check_form(form, {"reached": True, "satisfied": False}) == (
        {"reached": True, "satisfied": False},
        {},
    )
    assert check_form(form, {"reached": True})[1] == {"satisfied": ["required when reached is true"]}


def test_the_callback_takes_a_satisfaction_only_from_a_customer_reached_and_the_proof_sends_none_otherwise():
    from datetime import date

    from services.routing.engine.proof import form_answers

    diagram = parse_diagram(SHIPPED.encode(), DMN, set(QUEUES))
    form = diagram.user_tasks["callback"].form
    satisfied = {f.id: f for f in form}["satisfied"]

    answers = [data for _, data in form_answers(form, date(2026, 11, 22))]

    assert satisfied.only_when == (("reached", "true"),)
    assert all("satisfied" not in data for data in answers if data["reached"] is False)
    assert {data.get("satisfied") for data in answers if data["reached"] is True} == {True, False}


def test_an_only_when_on_a_field_the_form_lacks_is_refused_on_deploy():
    broken = SHIPPED.replace(
        'name="only_when" config="reached=true"', 'name="only_when" config="called=true"'
    )

    with pytest.raises(
        DiagramError, match="taken only when 'called' is 'true', but the form has no other field"
    ):
        parse_diagram(broken.encode(), DMN, set(QUEUES))


def test_the_proof_tries_every_outcome_but_not_every_department_as_no_route_depends_on_the_department():
    from datetime import date

    from services.routing.engine.conditions import names_read
    from services.routing.engine.proof import form_answers

    diagram = parse_diagram(SHIPPED.encode(), DMN, set(QUEUES))
    read = frozenset(names_read(diagram.spec, diagram.subprocess_specs))

    answers = [
        data for _, data in form_answers(diagram.user_tasks["handle_floor"].form, date(2026, 11, 22), read)
    ]

    assert "outcome" in read and "department_asked" not in read
    assert {data["outcome"] for data in answers} == {"resolved", "escalate", "ask_department"}
    assert {data["department_asked"] for data in answers} == {"security"}

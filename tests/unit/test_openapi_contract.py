"""What the OpenAPI documents state is what the schemas read (docs/security.md, "Contract fuzzing"):
patterns judged as the document's ECMA patterns are, free text without NUL declared, a body that must
name something declared, JSON types read strictly."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.common.settings import load_settings
from services.common.web.schemas import NOT_BLANK, Pattern
from services.intake.entrypoints.schemas import ComplaintIn, PublicComplaintIn
from tests.conftest import MALL, SECRET
from tests.integration.conftest import complaint


def _intake_document() -> dict:
    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    settings = load_settings(
        {}, database_url="postgresql://unused", amqp_url="memory://", auth_secret=SECRET, mall_id=MALL
    )
    return create_app(bootstrap(settings)).test_client().get("/openapi.json").json


def test_a_pattern_covers_the_whole_value_so_a_final_line_break_is_refused_as_the_document_says():
    code = Pattern(r"^[A-Za-z0-9_\-]{1,40}$")

    assert code("3F") == "3F"
    with pytest.raises(ValidationError):
        code("3F\n")  # Python's `match` lets `$` match before it; ECMA's pattern does not


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\x1c", "\x1f", "\x85", "\ufeff", "\u3000", "a\x00"])
def test_a_reason_must_hold_more_than_what_either_dialect_counts_as_blank(blank):
    with pytest.raises(ValidationError):
        Pattern(NOT_BLANK)(blank)


def test_a_reason_with_something_in_it_is_read_whatever_surrounds_it():
    assert Pattern(NOT_BLANK)(" 顾客要求\n") == " 顾客要求\n"


@pytest.mark.parametrize(
    ("field", "value"),
    [("injury", 1), ("lawsuit", "true"), ("people_count", "2"), ("people_count", 2.0), ("amount", 399)],
)
def test_the_desks_complaint_takes_json_types_as_documented_and_nothing_looser(field, value):
    with pytest.raises(ValidationError) as refused:
        ComplaintIn().load(complaint(**{field: value}))

    assert field in refused.value.messages


def test_the_web_forms_contact_opt_out_is_a_json_boolean():
    body = {
        "category": "quality",
        "description": "坏了",
        "consent": True,
        "customer": {"name": "王女士", "phone": "13912345678", "contact_opt_out": 0},
    }

    with pytest.raises(ValidationError) as refused:
        PublicComplaintIn().load(body)

    assert refused.value.messages == {"customer": {"contact_opt_out": ["Not a valid boolean."]}}


def test_the_document_declares_what_the_schemas_refuse_beyond_types():
    document = _intake_document()
    schemas = document["components"]["schemas"]

    assert schemas["ComplaintIn"]["properties"]["description"]["pattern"] == NOT_BLANK  # NUL refused too
    assert schemas["CorrectionIn"]["minProperties"] == 2  # the reason and something to correct
    floor = document["paths"]["/reference/floors/{code}"]
    declared = floor.get("parameters", []) + floor["put"].get("parameters", [])
    (code,) = [parameter for parameter in declared if parameter["in"] == "path"]
    assert code["schema"]["pattern"] == r"^[A-Za-z0-9_\-]{1,40}$"

"""The JSON limits every service reads outside input with (services/common/jsonlimits.py)."""

from __future__ import annotations

import json

import pytest

from services.common import jsonlimits
from services.common.errors import InvalidInput
from services.common.jsonlimits import DEFAULT, Limits, TooComplex


def arrays(levels: int) -> str:
    return "[" * levels + "]" * levels


def objects(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.mark.parametrize(
    "text", [arrays(2000), objects(5000), arrays(200_000)], ids=["arrays", "objects", "huge"]
)
def test_json_deeper_than_the_parser_can_read_is_too_deep_not_a_recursion_error(text):
    with pytest.raises(TooComplex) as refused:
        jsonlimits.loads(text)

    assert refused.value.fields == {"_schema": ["nested more than 32 levels deep (objects and arrays)"]}
    assert isinstance(refused.value, InvalidInput)  # answered 400 by every service's error table


def test_32_levels_are_read_and_33_are_too_deep():
    assert jsonlimits.loads(arrays(DEFAULT.depth)) == json.loads(arrays(DEFAULT.depth))
    with pytest.raises(TooComplex, match="nested more than 32 levels"):
        jsonlimits.loads(arrays(DEFAULT.depth + 1))
    with pytest.raises(TooComplex):
        jsonlimits.loads(json.dumps({"data": {"a": json.loads(arrays(DEFAULT.depth - 1))}}))


@pytest.mark.parametrize(
    ("value", "where", "says"),
    [
        ({"customer_request": ["x"] * 1001}, "customer_request", "more than 1000 items"),
        ({"data": {f"k{n}": n for n in range(1001)}}, "data", "more than 1000 members"),
        ({"customer": {"name": "王" * 20_001}}, "customer.name", "longer than 20000 characters"),
        ({"data": {"k" * 20_001: 1}}, "data", "a member name longer than 20000 characters"),
        ({"rows": [["ok"], ["ok", "长" * 20_001]]}, "rows.1.1", "longer than 20000 characters"),
        (["x"] * 1001, "_schema", "more than 1000 items"),
        ("x" * 20_001, "_schema", "longer than 20000 characters"),
    ],
)
def test_an_array_object_or_string_over_its_limit_is_named_by_its_dotted_path(value, where, says):
    with pytest.raises(TooComplex) as refused:
        jsonlimits.loads(json.dumps(value))

    assert refused.value.fields == {where: [says]}
    assert says in str(refused.value)


def test_at_the_limits_everything_is_read_as_json_loads_reads_it():
    text = json.dumps({"items": ["x"] * 1000, "text": "长" * 20_000, "k" * 20_000: {"n": 1}})

    assert jsonlimits.loads(text) == json.loads(text)
    assert jsonlimits.loads(text.encode()) == json.loads(text)


def test_bad_json_fails_as_json_loads_fails():
    with pytest.raises(json.JSONDecodeError):
        jsonlimits.loads('{"cut": ')


def test_the_limits_can_be_raised_for_one_kind_of_input():
    diagram = json.dumps({"bpmn": "<x/>" * 100_000})

    assert jsonlimits.loads(diagram, Limits(chars=4 * 1024 * 1024))["bpmn"].startswith("<x/>")
    with pytest.raises(TooComplex):
        jsonlimits.loads(diagram)


def test_a_decoded_value_is_checked_without_recursion_however_deep():
    deep: list = []
    for _ in range(50_000):
        deep = [deep]

    with pytest.raises(TooComplex, match="nested more than 32"):
        jsonlimits.check({"payload": deep})


@pytest.mark.parametrize(
    "text",
    [
        b'{"customer": {"name": "\\ud800"}}',  # an escape of half a pair
        '{"customer": {"name": "\\udfff"}}',
        '{"customer": {"name": "王\ud800"}}'.encode(errors="surrogatepass"),  # the bytes themselves
    ],
    ids=["escaped", "escaped-text", "raw-bytes"],
)
def test_half_a_surrogate_pair_is_bad_input_named_where_it_is(text):
    with pytest.raises(InvalidInput) as refused:
        jsonlimits.loads(text)

    assert list(refused.value.fields) == ["customer.name"]
    assert "at customer.name" in str(refused.value)


def test_a_whole_pair_and_chinese_text_pass():
    text = json.dumps({"description": "😀 店员态度恶劣", "tags": ["\u5e97"]})  # ASCII escapes, a real pair
    assert jsonlimits.loads(text)["description"] == "😀 店员态度恶劣"
    assert jsonlimits.loads(text.encode())["tags"] == ["店"]


def test_a_member_name_with_half_a_pair_is_named_by_its_object():
    with pytest.raises(InvalidInput) as refused:
        jsonlimits.loads(b'{"data": {"\\ud800": 1}}')

    assert list(refused.value.fields) == ["data"]

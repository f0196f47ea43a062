"""Dates in the diagram follow the mall's zone: `end_of_day`, the deploy check against offsets and
zones written as text, and the shipped diagram holding no such literal nor a duration of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services.routing.domain.model import QUEUES
from services.routing.engine import parse_diagram
from services.routing.engine.scripts import diagram_python, end_of_day, problems_in

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Shanghai", "2026-11-25T23:59:59+08:00"),
        ("Europe/London", "2026-11-25T23:59:59+00:00"),
        ("America/New_York", "2026-11-25T23:59:59-05:00"),
        ("Etc/GMT+12", "2026-11-25T23:59:59-12:00"),
    ],
)
def test_the_end_of_a_day_is_its_last_second_in_the_malls_zone(zone, expected):
    assert end_of_day("2026-11-25", zone) == expected


def test_the_end_of_a_summer_day_in_london_is_in_summer_time():
    assert end_of_day("2026-07-01", "Europe/London") == "2026-07-01T23:59:59+01:00"


@pytest.mark.parametrize(("day", "zone"), [("2026-13-01", "Asia/Shanghai"), ("2026-11-25", "Mars/Olympus")])
def test_a_bad_day_or_zone_is_an_error_naming_it(day, zone):
    with pytest.raises(ValueError):
        end_of_day(day, zone)


@pytest.mark.parametrize(
    "text",
    ['d + "T23:59:59+08:00"', 'd + "T00:00:00Z"', 'x = "+08:00"', 'z = "Asia/Shanghai"', 'z = "UTC"'],
)
def test_an_offset_or_a_zone_written_as_text_is_refused(text):
    assert problems_in(text, "exec")


@pytest.mark.parametrize(
    "text",
    [
        '"PT" + str(policy["handler_acts_within_seconds"]) + "S"',
        'end_of_day(d, policy["time_zone"])',
        'note = "12:30 来电"',
        'category = "price"',
    ],
)
def test_policy_driven_times_and_ordinary_text_pass(text):
    assert problems_in(text, "exec") == []


def _constants(text: str, mode: str):
    source = text.replace("?", "dmn_input") if mode == "dmn" else text
    try:
        tree = ast.parse(source, mode="eval" if mode != "exec" else "exec")
    except SyntaxError:
        tree = ast.parse("dmn_input " + source, mode="eval")
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)]


def test_the_shipped_diagram_writes_no_duration_offset_or_zone_of_its_own():
    dmn = {path.name: path.read_bytes() for path in BPMN.glob("*.dmn")}
    diagram = parse_diagram((BPMN / "complaint.bpmn").read_bytes(), dmn, set(QUEUES), "complaint.bpmn")
    found = []
    for task_spec, text, mode, _what in diagram_python(diagram.spec, diagram.subprocess_specs):
        element = task_spec.bpmn_id
        for value in _constants(text, mode) if text else []:
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            if (numeric and value not in (0, 1)) or (
                isinstance(value, str) and any(ch.isdigit() for ch in value)
            ):
                found.append((element, value))
    assert found == []  # every duration, deadline and zone comes from policy

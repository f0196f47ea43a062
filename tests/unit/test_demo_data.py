"""The demo mall and staff `./dev run` loads: a person for every lane of the diagram, every floor
and department of the demo mall held by someone (and nothing else), and the B1 dairy counter."""

from __future__ import annotations

import json
import re

from services.intake.seed import DEMO_MALL
from services.runner.allinone import DEMO_STAFF, MALL_DIAGRAM

LANE = re.compile(r'<bpmn:lane id="[^"]+" name="([a-z_]+)"')
SEED = json.loads(DEMO_MALL.read_text(encoding="utf-8"))


def test_every_lane_has_a_demo_person_and_every_floor_and_department_of_the_demo_mall_someone():
    lanes = set(LANE.findall(MALL_DIAGRAM.read_text(encoding="utf-8")))
    held = {role for _, _, roles, _, _ in DEMO_STAFF for role in roles}
    floors = {floor for *_, scoped, _ in DEMO_STAFF for floor in scoped}
    departments = {department for *_, scoped in DEMO_STAFF for department in scoped}

    assert len(lanes) == 6 and lanes <= held
    assert floors == {floor["code"] for floor in SEED["floors"]}
    assert departments == {item["code"] for item in SEED["departments"]}


def test_the_demo_mall_has_a_dairy_counter_on_b1():
    [dairy] = [shop for shop in SEED["merchants"] if shop["code"] == "M-B1-007"]

    assert (dairy["floor"], dairy["business"]) == ("B1", "乳制品")
    assert len(SEED["merchants"]) == len({shop["code"] for shop in SEED["merchants"]}) == 41

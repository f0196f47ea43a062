"""What a diagram calls its elements, by language: the name as drawn and the `name.<language>`
camunda properties (bpmn/README.md "Names in two languages"), for pages that name an element
outside the diagram (a timer, an incident, a version's elements)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"


def element_names(xml: str) -> dict[str, dict[str, str]]:
    """{element id: {"": name as drawn, "zh-CN": …, "en": …}} for every element with an id."""
    root = ET.fromstring(xml)  # noqa: S314 - a version routing stored after validating it
    found: dict[str, dict[str, str]] = {}
    for node in root.iter():
        if not node.tag.startswith(BPMN) or "id" not in node.attrib:
            continue
        names = {"": node.attrib.get("name") or ""}
        for prop in node.iterfind(f"{BPMN}extensionElements/{CAMUNDA}properties/{CAMUNDA}property"):
            key = prop.attrib.get("name") or ""
            if key.startswith("name.") and prop.attrib.get("value"):
                names[key.removeprefix("name.")] = prop.attrib["value"]
        found[node.attrib["id"]] = names
    return found

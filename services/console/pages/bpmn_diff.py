"""What changed between two versions of a diagram, element by element (for designers' eyes)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# Elements of the process itself; the drawing (BPMNDI) only moves shapes and is left out.
SKIPPED = {
    "definitions",
    "process",
    "extensionElements",
    "incoming",
    "outgoing",
    "documentation",
    "laneSet",
    "flowNodeRef",
    "text",
}
# Routing names the element of each problem of a refused deploy: `element “Name” (id): …`, or
# `element id: …` when it has no name (`元素 “名称”（id）：…` in Chinese), with the element's type
# before a generated id (`element user task “Name” (UserTask_1): …`); a problem the proof found
# says where: `… at Name (id): …` (`…，位于“名称”（id）：…`).
REFUSED_ELEMENT = re.compile(
    r"(?:element|元素) (?:[^“:：()（）]*?(?:“[^”]*”)?\s?[(（])?([\w.-]+)[)）]?[:：]|(?:位于“[^”]*”（| at [^()]*\()([\w.-]+)[)）][:：]"
)


def _elements(xml: str) -> dict[str, dict]:
    root = ET.fromstring(xml)  # noqa: S314 - a version routing stored after validating it
    found: dict[str, dict] = {}
    for node in root.iter():
        kind = node.tag.removeprefix(BPMN)
        if not node.tag.startswith(BPMN) or kind in SKIPPED or "id" not in node.attrib:
            continue
        found[node.attrib["id"]] = {
            "type": kind,
            "name": node.attrib.get("name"),
            "signature": _signature(node) if kind not in {"lane"} else str(sorted(node.attrib.items())),
        }
    return found


# Attributes at the value BPMN gives them when absent: bpmn-js leaves them out when it saves.
DEFAULTS = {
    ("cancelActivity", "true"),
    ("isInterrupting", "true"),
    ("parallelMultiple", "false"),
    ("isForCompensation", "false"),
    ("triggeredByEvent", "false"),
    ("startQuantity", "1"),
    ("completionQuantity", "1"),
    ("gatewayDirection", "Unspecified"),
    ("isClosed", "false"),
}


def _signature(node: ET.Element) -> tuple:
    """What the element says, not how it was written: a modeler that saves it again reorders attributes,
    indents and wraps text differently and leaves default values out, which is no change to the process."""
    text = " ".join((node.text or "").split())
    attributes = tuple(sorted(item for item in node.attrib.items() if item not in DEFAULTS))
    return (node.tag, attributes, text, tuple(_signature(child) for child in node))


def element_diff(old_xml: str, new_xml: str) -> list[dict]:
    """[{change: added|removed|changed, id, type, name}] in id order."""
    old, new = _elements(old_xml), _elements(new_xml)
    changes = [{"change": "added", "id": key, **new[key]} for key in new.keys() - old.keys()]
    changes += [{"change": "removed", "id": key, **old[key]} for key in old.keys() - new.keys()]
    changes += [
        {"change": "changed", "id": key, **new[key]}
        for key in old.keys() & new.keys()
        if old[key]["signature"] != new[key]["signature"]
    ]
    for change in changes:
        change.pop("signature")
    return sorted(changes, key=lambda change: (change["change"], change["id"]))


def refused_element(message: str) -> str | None:
    """The element a refused deploy's problem names (see REFUSED_ELEMENT)."""
    found = REFUSED_ELEMENT.search(message)
    return (found.group(1) or found.group(2)) if found else None


DMN = "{https://www.omg.org/spec/DMN/20191111/MODEL/}"


def _rules(dmn: str) -> dict[str, dict]:
    """rule id -> its description, and each input's and output's text as written (`-`: any)."""
    root = ET.fromstring(dmn)  # noqa: S314 - a version routing stored after validating it
    namespace = root.tag.partition("}")[0] + "}" if root.tag.startswith("{") else DMN
    found = {}
    for table in root.iter(f"{namespace}decisionTable"):
        inputs = [node.get("label") or node.get("id") for node in table.findall(f"{namespace}input")]
        outputs = [node.get("name") or node.get("label") for node in table.findall(f"{namespace}output")]
        for rule in table.findall(f"{namespace}rule"):
            texts = [
                " ".join((entry.findtext(f"{namespace}text") or "").split())
                for entry in rule
                if entry.tag in (f"{namespace}inputEntry", f"{namespace}outputEntry")
            ]
            found[rule.get("id")] = {
                "description": " ".join((rule.findtext(f"{namespace}description") or "").split()),
                "when": [
                    (name, text) for name, text in zip(inputs, texts, strict=False) if text not in ("", "-")
                ],
                "then": list(zip(outputs, texts[len(inputs) :], strict=False)),
            }
    return found


def rule_diff(old_dmn: str | None, new_dmn: str | None) -> list[dict]:
    """A decision table's rules added, removed or changed: [{change, id, description, old, new}],
    `old`/`new` being the rule as it was and is ({when: [(input, text)], then: [(output, text)]})."""
    old, new = _rules(old_dmn) if old_dmn else {}, _rules(new_dmn) if new_dmn else {}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        described = (after or before)["description"]
        changes.append({"change": change, "id": key, "description": described, "old": before, "new": after})
    return changes

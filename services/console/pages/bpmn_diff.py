"""What changed between two versions of a diagram, element by element (for designers' eyes)."""

from __future__ import annotations

import difflib
import re
import xml.etree.ElementTree as ET

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
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
        # An event's definition (its timer, message …) is part of the event, whose row says what changed.
        if not node.tag.startswith(BPMN) or kind in SKIPPED or kind.endswith("EventDefinition"):
            continue
        if "id" not in node.attrib:
            continue
        found[node.attrib["id"]] = {
            "type": kind,
            "name": node.attrib.get("name"),
            "signature": _signature(node) if kind not in {"lane"} else str(sorted(node.attrib.items())),
            "node": node,
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
    """[{change: added|removed|changed, id, type, name, between, on, aspects}] in id order: `between`
    the ids a flow joins, `on` the element a boundary event is attached to (what names them when
    they have no name), and for a changed element what changed in it (see `_aspects`)."""
    old, new = _elements(old_xml), _elements(new_xml)
    changes = [{"change": "added", "id": key, **new[key]} for key in new.keys() - old.keys()]
    changes += [{"change": "removed", "id": key, **old[key]} for key in old.keys() - new.keys()]
    changes += [
        {"change": "changed", "id": key, **new[key], "aspects": _aspects(old[key]["node"], new[key]["node"])}
        for key in old.keys() & new.keys()
        if old[key]["signature"] != new[key]["signature"]
    ]
    for change in changes:
        change.pop("signature")
        node = change.pop("node")
        change["between"] = [node.get("sourceRef"), node.get("targetRef")] if node.get("sourceRef") else None
        change["on"] = node.get("attachedToRef")
        change.setdefault("aspects", [])
    return sorted(changes, key=lambda change: (change["change"], change["id"]))


# What a designer changes in an element, each read the same way from both versions: a changed
# element is listed with those that differ ("name": PT24H → PT12H is "timer"), or "other" when none
# of them does (an attribute, a documentation text: the source's lines show it).
TIMER_TAGS = tuple(f"{BPMN}{tag}" for tag in ("timeDuration", "timeDate", "timeCycle"))


def _names(node: ET.Element) -> dict[str, str]:
    names = {"": node.get("name") or ""}
    for prop in node.iterfind(f"{BPMN}extensionElements/{CAMUNDA}properties/{CAMUNDA}property"):
        key = prop.get("name") or ""
        if key.startswith("name.") and prop.get("value"):
            names[key.removeprefix("name.")] = prop.get("value")
    return names


def _text(node: ET.Element, tags: tuple[str, ...]) -> str | None:
    found = next((child for child in node.iter() if child.tag in tags), None)
    return None if found is None else " ".join((found.text or "").split())


def _fields(node: ET.Element) -> dict[str, ET.Element]:
    return {field.get("id") or "": field for field in node.iter(f"{CAMUNDA}formField")}


def _field_names(field: ET.Element) -> dict[str, str]:
    """A form field's labels by language, as `_names` gives an element's names."""
    names = {"": field.get("label") or field.get("id") or ""}
    for prop in field.iter(f"{CAMUNDA}property"):
        key = prop.get("id") or prop.get("name") or ""
        if key.startswith("label.") and prop.get("value"):
            names[key.removeprefix("label.")] = prop.get("value")
    return names


def _aspects(old: ET.Element, new: ET.Element) -> list[dict]:
    """[{aspect, old, new}]: name (the names by language), timer, condition, script (texts),
    connection (a flow's [source, target]), queue (candidate groups), form (`new`: {added,
    removed, changed}, each [{id, names}] of fields), other."""
    aspects = []
    for aspect, read in (
        ("name", _names),
        ("timer", lambda node: _text(node, TIMER_TAGS)),
        ("condition", lambda node: _text(node, (f"{BPMN}conditionExpression",))),
        ("script", lambda node: (node.findtext(f"{BPMN}script") or "").strip() or None),
        ("connection", lambda node: [node.get("sourceRef"), node.get("targetRef")]),
        ("queue", lambda node: node.get(f"{CAMUNDA}candidateGroups")),
    ):
        before, after = read(old), read(new)
        if before != after:
            aspects.append({"aspect": aspect, "old": before, "new": after})
            if aspect == "script":
                aspects[-1]["lines"] = script_lines(before, after)
    before, after = _fields(old), _fields(new)
    ids = {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": sorted(
            key for key in before.keys() & after.keys() if _signature(before[key]) != _signature(after[key])
        ),
    }
    if any(ids.values()):
        fields = {
            how: [
                {"id": key, "names": _field_names((after if how != "removed" else before)[key])}
                for key in keys
            ]
            for how, keys in ids.items()
        }
        aspects.append({"aspect": "form", "old": None, "new": fields})
    return aspects or [{"aspect": "other", "old": None, "new": None}]


def script_lines(before: str | None, after: str | None, context: int = 1) -> list[tuple[str, str]]:
    """A script's changed lines, [(mark, line)]: `-` taken out, `+` put in, ` ` one line of context
    around each change, `…` for lines skipped between changes. A designer reviewing a version reads
    which lines of a long script changed, not only that it did."""
    old, new = (before or "").splitlines(), (after or "").splitlines()
    lines: list[tuple[str, str]] = []
    for group in difflib.SequenceMatcher(None, old, new, autojunk=False).get_grouped_opcodes(context):
        if lines:
            lines.append(("…", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [(" ", line) for line in old[i1:i2]]
                continue
            lines += [("-", line) for line in old[i1:i2]]
            lines += [("+", line) for line in new[j1:j2]]
    return lines


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

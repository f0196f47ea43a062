"""The complaint diagram opens in bpmn-js (the bpmn.io toolkit) with no warnings, every flow node drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "bpmn" / "complaint.bpmn"
VIEWER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NOT_FLOW_NODES = {
    "sequenceFlow",
    "lane",
    "laneSet",
    "process",
    "definitions",
    "extensionElements",
    "incoming",
    "outgoing",
    "documentation",
    "conditionExpression",
    "flowNodeRef",
    "text",
    "timeDuration",
    "timeDate",
    "timerEventDefinition",
    "messageEventDefinition",
    "terminateEventDefinition",
    "script",
    "message",
    "collaboration",
    "participant",
}


def _flow_nodes() -> set[str]:
    root = ET.parse(DIAGRAM).getroot()
    process = root.find(f"{BPMN}process")
    return {
        node.attrib["id"]
        for node in process.iter()
        if node.tag.startswith(BPMN)
        and node.tag.removeprefix(BPMN) not in NOT_FLOW_NODES
        and "id" in node.attrib
    }


def test_the_complaint_diagram_imports_with_no_warnings_and_draws_every_flow_node(chromium):
    page = chromium.new_page()
    page.set_content('<div id="canvas" style="width:1600px;height:1000px"></div>')
    page.add_script_tag(path=str(VIEWER))

    result = page.evaluate(
        """async (xml) => {
            const viewer = new BpmnJS({ container: '#canvas' });
            const { warnings } = await viewer.importXML(xml);
            const drawn = viewer.get('elementRegistry').filter(e => e.type !== 'label').map(e => e.id);
            return { warnings: warnings.map(w => w.message), drawn };
        }""",
        DIAGRAM.read_text(encoding="utf-8"),
    )
    page.close()

    assert result["warnings"] == []
    assert _flow_nodes() and sorted(_flow_nodes() - set(result["drawn"])) == []

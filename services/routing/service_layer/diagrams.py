"""Parsed diagrams, one per deployed version, kept in memory once parsed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.routing.adapters.processes import ProcessVersion
from services.routing.domain.model import QUEUES
from services.routing.engine import Diagram, parse_diagram


def parse_version(bpmn_xml: str, dmn_xml: dict[str, str], bpmn_name: str = "diagram.bpmn") -> Diagram:
    dmn = {name: text.encode() for name, text in dmn_xml.items()}
    return parse_diagram(bpmn_xml.encode(), dmn, set(QUEUES), bpmn_name)


class DiagramCache:
    """Parsing is slow and a version never changes, so each is parsed once per process."""

    def __init__(self):
        self._diagrams: dict[str, Diagram] = {}
        self._lock = threading.Lock()

    def get(self, version_id: str, load: Callable[[str], ProcessVersion | None]) -> Diagram:
        """The parsed diagram of a version; `load` fetches the version's sources only on a miss."""
        with self._lock:
            diagram = self._diagrams.get(version_id)
        if diagram is None:
            version = load(version_id)
            diagram = parse_version(version.bpmn_xml, version.dmn_xml)
            with self._lock:
                self._diagrams[version_id] = diagram
        return diagram

"""Parsed diagrams, one per deployed version, kept in memory once parsed."""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.routing.adapters.processes import ProcessVersion
from services.routing.domain.model import QUEUES
from services.routing.engine import Diagram
from services.routing.engine.sandbox import DiagramSource


def source_of(version: ProcessVersion, bpmn_name: str = "diagram.bpmn") -> DiagramSource:
    return _source(
        version.source_hash,
        version.bpmn_xml,
        version.dmn_xml,
        bpmn_name,
        version.form_schemas,
        version.called_bpmn,
    )


def parse_version(
    bpmn_xml: str,
    dmn_xml: dict[str, str],
    bpmn_name: str = "diagram.bpmn",
    forms: dict[str, str] | None = None,
    called: dict[str, str] | None = None,
) -> Diagram:
    return candidate_source("", bpmn_xml, dmn_xml, bpmn_name, forms or {}, called or {}).parse()


def candidate_source(
    key: str,
    bpmn_xml: str,
    dmn_xml: dict[str, str],
    bpmn_name: str,
    forms: dict[str, str],
    called: dict[str, str] | None = None,
) -> DiagramSource:
    """Files not deployed yet, for a sandbox process to parse (and prove) under `key`, their hash."""
    return _source(key, bpmn_xml, dmn_xml, bpmn_name, forms, called or {})


def _source(
    key: str,
    bpmn_xml: str,
    dmn_xml: dict[str, str],
    bpmn_name: str,
    forms: dict[str, str],
    called: dict[str, str],
) -> DiagramSource:
    dmn = {name: text.encode() for name, text in dmn_xml.items()}
    form_files = {name: text.encode() for name, text in forms.items()}
    called_files = {process: text.encode() for process, text in called.items()}
    return DiagramSource(key, bpmn_xml.encode(), dmn, frozenset(QUEUES), bpmn_name, form_files, called_files)


class DiagramCache:
    """Parsing is slow and a version never changes, so each is parsed once per process; its
    sources are kept too, for the sandbox processes that run its steps."""

    def __init__(self):
        self._diagrams: dict[str, tuple[Diagram, DiagramSource]] = {}
        self._lock = threading.Lock()

    def get(self, version_id: str, load: Callable[[str], ProcessVersion | None]) -> Diagram:
        """The parsed diagram of a version; `load` fetches the version's sources only on a miss."""
        return self._entry(version_id, load)[0]

    def source(self, version_id: str, load: Callable[[str], ProcessVersion | None]) -> DiagramSource:
        return self._entry(version_id, load)[1]

    def _entry(self, version_id: str, load) -> tuple[Diagram, DiagramSource]:
        with self._lock:
            entry = self._diagrams.get(version_id)
        if entry is None:
            source = source_of(load(version_id))
            entry = (source.parse(), source)
            with self._lock:
                self._diagrams[version_id] = entry
        return entry

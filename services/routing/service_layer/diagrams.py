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
    """Parsing is slow and a version never changes, so each is parsed once per process, and only
    where this process reads a workflow itself (timers, migrations, an old case's elements): a step
    needs only the version's sources, which the sandbox process running it parses once for itself.

    A version is parsed by one thread at a time: after a start or a deploy, the first requests of
    a version would otherwise each parse it at once (on the shipped diagram about half a second of
    CPU each), every one of them but the last for nothing.
    """

    def __init__(self):
        self._sources: dict[str, DiagramSource] = {}
        self._diagrams: dict[str, Diagram] = {}
        self._lock = threading.Lock()  # guards the two dicts and the parse locks
        self._parsing: dict[str, threading.Lock] = {}

    def get(self, version_id: str, load: Callable[[str], ProcessVersion | None]) -> Diagram:
        """The parsed diagram of a version; `load` fetches the version's sources only on a miss."""
        diagram = self._diagrams.get(version_id)
        if diagram is not None:
            return diagram
        with self._lock:
            parsing = self._parsing.setdefault(version_id, threading.Lock())
        with parsing:  # one thread parses; the others wait for its diagram
            diagram = self._diagrams.get(version_id)
            if diagram is None:
                diagram = self.source(version_id, load).parse()
                with self._lock:
                    self._diagrams[version_id] = diagram
                    self._parsing.pop(version_id, None)
        return diagram

    def source(self, version_id: str, load: Callable[[str], ProcessVersion | None]) -> DiagramSource:
        """A version's files, as the sandbox process running its steps is given them."""
        source = self._sources.get(version_id)
        if source is None:
            source = source_of(load(version_id))
            with self._lock:
                source = self._sources.setdefault(version_id, source)
        return source

"""A diagram's files are parsed once per process, whoever asks: the deploy, each runtime's version
cache, the one-process run's start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from services.routing.domain.model import QUEUES
from services.routing.engine.sandbox import DiagramSource

SHIPPED = Path(__file__).resolve().parents[2] / "bpmn"


def _source(key: str = "") -> DiagramSource:
    dmn = {path.name: path.read_bytes() for path in SHIPPED.glob("*.dmn")}
    return DiagramSource(
        key, (SHIPPED / "complaint.bpmn").read_bytes(), dmn, frozenset(QUEUES), "complaint.bpmn"
    )


def test_the_same_files_parse_to_the_same_diagram_whatever_key_they_come_under():
    first = _source("").parse()

    assert _source("a-version-hash").parse() is first


def test_other_files_or_queues_parse_on_their_own():
    source = _source()
    changed = replace(
        source, bpmn=source.bpmn.replace(b"</bpmn:definitions>", b"<!-- a note --></bpmn:definitions>")
    )

    assert changed.content_hash() != source.content_hash()
    assert replace(source, queues=source.queues | {"parking"}).content_hash() != source.content_hash()
    assert replace(source, name="other.bpmn").content_hash() != source.content_hash()
    assert changed.parse() is not source.parse()

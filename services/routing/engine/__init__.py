"""The SpiffWorkflow adapter: nothing outside this package imports SpiffWorkflow.

`parse_diagram` turns deployed BPMN/DMN into a `Diagram` (or a `DiagramError` naming the
element); `Engine` starts, restores, advances and serializes workflows of a diagram, storing
only the part of a workflow's history the engine still reads (`compaction`), so a case that loops
keeps the same size and step cost.
"""

from services.routing.engine.engine import CompletedElement, Engine, EngineError, PendingTimer, ReadyTask
from services.routing.engine.parser import Diagram, DiagramError, FormField, parse_diagram

__all__ = [
    "CompletedElement",
    "Diagram",
    "DiagramError",
    "Engine",
    "EngineError",
    "FormField",
    "PendingTimer",
    "ReadyTask",
    "parse_diagram",
]

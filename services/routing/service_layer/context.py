"""What every routing handler needs besides its session."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.clock import Clock
from services.routing.engine import Engine
from services.routing.service_layer.diagrams import DiagramCache


@dataclass(frozen=True)
class Context:
    mall_id: str
    clock: Clock
    engine: Engine
    diagrams: DiagramCache

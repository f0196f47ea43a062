"""What every routing handler needs besides its unit of work."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.common.clock import Clock
from services.routing.engine import Engine
from services.routing.engine.sandbox import Sandbox
from services.routing.service_layer.diagrams import DiagramCache


@dataclass(frozen=True)
class Context:
    mall_id: str
    clock: Clock
    engine: Engine  # in this process: restores states to read them, never runs a diagram's Python
    diagrams: DiagramCache
    sandbox: Sandbox  # where steps run
    time_zone: str = "Asia/Shanghai"  # the mall's (MALL_TIME_ZONE): given to every new case's workflow
    process_key: str = "complaint"  # COMPLAINT_PROCESS: the process whose active version complaints start
    policy: dict = field(default_factory=dict)  # the mall's policy as workflow data: what probes carry

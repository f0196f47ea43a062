"""What reporting's handlers are given besides their message and unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.common.bus.envelope import Actor
from services.common.clock import Clock
from services.common.settings import Policy

SYSTEM = "reporting"
OWN = Actor(SYSTEM, "service")  # who reporting's own events (CAPA records, retention requests) come from


@dataclass(frozen=True)
class Context:
    mall_id: str
    zone: ZoneInfo
    policy: Policy
    clock: Clock

"""What notify's HTTP routes can ask it to do: imperative, frozen, plain values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MarkRead:
    """Mark one of a staff member's notifications read (marking it again keeps the first time)."""

    item_id: str
    mall_id: str
    username: str


@dataclass(frozen=True)
class RetryDelivery:
    """Send a failed delivery again now, with a fresh set of attempts."""

    delivery_id: str
    mall_id: str

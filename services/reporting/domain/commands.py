"""What reporting is asked to do: commands as frozen dataclasses of plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UpdateCapa:
    """The operations manager records cause, action, owner, due date, verification, or a new status."""

    mall_id: str
    capa_id: str
    actor_id: str
    changes: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    expected_version: int | None = None  # refuse the update if someone changed the record since


@dataclass(frozen=True)
class RunRetention:
    """Erase the personal data of cases closed longer ago than the policy keeps it."""

    dry_run: bool = False
    batch_size: int = 1000


@dataclass(frozen=True)
class RebuildReadModel:
    """Derive every case again from the stored events (CAPA records stay; a recurrence found opens one)."""

    batch_size: int = 1000

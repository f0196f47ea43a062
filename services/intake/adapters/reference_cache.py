"""Each mall's floors, departments and active merchants, kept in the process for the reference check
every recorded complaint makes (one query fewer per complaint)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.intake.domain.model import Merchant

# A change made through another process (another gunicorn worker, the seed command) is seen within
# this many seconds; this process's own changes are seen at once (see ReferenceCache.invalidate).
REFERENCE_TTL = 5.0


@dataclass(frozen=True)
class Reference:
    floors: frozenset[str]
    departments: frozenset[str]
    merchants: dict[str, Merchant]  # active ones, by code


class ReferenceCache:
    """A mall's reference data, loaded again when older than `ttl` or after `invalidate`."""

    def __init__(self, ttl: float = REFERENCE_TTL, now: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._now = now
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Reference]] = {}
        self._generation = 0  # bumped by invalidate, so a load that overlapped a change is not kept

    def get(self, mall_id: str, load: Callable[[], Reference]) -> Reference:
        entry = self._entries.get(mall_id)
        if entry is not None and self._now() - entry[0] < self.ttl:
            return entry[1]
        generation, loaded_at = self._generation, self._now()
        reference = load()
        with self._lock:
            if generation == self._generation:
                self._entries[mall_id] = (loaded_at, reference)
        return reference

    def invalidate(self, mall_id: str) -> None:
        """Forget a mall's data; called once a change to it has been committed."""
        with self._lock:
            self._generation += 1
            self._entries.pop(mall_id, None)

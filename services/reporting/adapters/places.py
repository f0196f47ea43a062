"""The mall's floors and departments by name, as intake last announced them (reference.changed).

Intake keeps the reference data and publishes the whole list of floors and departments whenever it
changes; reporting keeps every event it consumes, so the newest such event holds the names a report
prints (三层, 保安部). No such event yet: no names, and the reports show the codes.
"""

from __future__ import annotations

from typing import Any

import psycopg

from services.common.bus.events import REFERENCE_CHANGED

LATEST = (
    "SELECT envelope -> 'payload' AS payload FROM reporting.events"
    " WHERE mall_id = %s AND type = %s ORDER BY occurred_at DESC LIMIT 1"
)


class PlaceNames:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def latest(self, mall_id: str) -> dict[str, dict[str, dict[str, Any]]]:
        """{"floors": {code: {"name", "name_en"}}, "departments": {…}}: empty when intake told nothing yet."""
        row = self.conn.execute(LATEST, (mall_id, REFERENCE_CHANGED)).fetchone()
        payload = (row or {}).get("payload") or {}
        return {
            kind: {
                item["code"]: item
                for item in payload.get(kind) or ()
                if isinstance(item, dict) and "code" in item
            }
            for kind in ("floors", "departments")
        }

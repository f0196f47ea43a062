"""Reference data seeds: the demo mall, or any file of the same shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from psycopg_pool import ConnectionPool

from services.common.bus.outbox import OutboxWriter
from services.intake.adapters.reply_templates import ReplyTemplates
from services.intake.adapters.repository import ReferenceRepository
from services.intake.bootstrap import SCHEMA
from services.intake.service_layer.unit_of_work import announcement

DEMO_MALL = Path(__file__).with_name("demo_mall.json")


def load_reference(
    pool: ConnectionPool, mall_id: str, path: Path = DEMO_MALL, announce: bool = False
) -> dict[str, int]:
    """Create or update the floors, departments and merchants of a seed file, in one transaction;
    with `announce`, tell the other services the names (reference.changed) in the same transaction."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    with pool.connection() as conn, conn.transaction():
        repository = ReferenceRepository(conn)
        for floor in data["floors"]:
            repository.upsert_floor(mall_id, floor)
        for department in data["departments"]:
            repository.upsert_department(mall_id, department)
        for merchant in data["merchants"]:
            repository.upsert_merchant(mall_id, merchant)
        _first_reply_templates(conn, mall_id, data.get("reply_templates") or [])
        if announce:
            OutboxWriter(SCHEMA).add(conn, announcement(repository, mall_id))
    return {name: len(data[name]) for name in ("floors", "departments", "merchants")}


def _first_reply_templates(conn, mall_id: str, templates: list[dict]) -> None:
    """A mall's first canned replies; once it has any, they are the mall's to edit (the seed adds none)."""
    store = ReplyTemplates(conn)
    if templates and not store.list(mall_id, None, include_retired=True):
        for template in templates:
            store.add(mall_id, template, "seed", datetime.now(UTC))


def announce_reference(pool: ConnectionPool, mall_id: str) -> None:
    """Tell the other services the mall's floors and departments again (reporting names them so):
    for a mall whose reference data was loaded before intake announced it."""
    with pool.connection() as conn, conn.transaction():
        OutboxWriter(SCHEMA).add(conn, announcement(ReferenceRepository(conn), mall_id))


def has_reference(pool: ConnectionPool, mall_id: str) -> bool:
    with pool.connection() as conn:
        return bool(
            conn.execute("SELECT 1 FROM intake.floors WHERE mall_id = %s LIMIT 1", (mall_id,)).fetchone()
        )

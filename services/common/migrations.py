"""Schema migrations: SQL files per service, applied by yoyo, each service in its own schema.

yoyo keeps its bookkeeping tables inside the service's schema and takes a lock, so several
processes starting at once apply each migration exactly once.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

log = logging.getLogger(__name__)

SERVICES_DIR = Path(__file__).resolve().parent.parent

BUS_MIGRATIONS = SERVICES_DIR / "common" / "bus" / "migrations"

# service schema -> folders of its migration files (the bus's outbox and inbox for services
# that publish or consume events).
MIGRATION_SOURCES: dict[str, tuple[Path, ...]] = {
    "identity": (SERVICES_DIR / "common" / "identity" / "migrations",),
    "intake": (BUS_MIGRATIONS, SERVICES_DIR / "intake" / "migrations"),
    "routing": (BUS_MIGRATIONS, SERVICES_DIR / "routing" / "migrations"),
    "notify": (BUS_MIGRATIONS, SERVICES_DIR / "notify" / "migrations"),
    "reporting": (BUS_MIGRATIONS, SERVICES_DIR / "reporting" / "migrations"),
}


def _yoyo_url(database_url: str, schema: str) -> str:
    base = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    base = base.replace("postgres://", "postgresql+psycopg://", 1)
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}schema={schema}"


def _ensure_schema(database_url: str, schema: str) -> None:
    # Another process may create it at the same moment: IF NOT EXISTS does not guard that race.
    with (
        psycopg.connect(database_url, autocommit=True) as conn,
        contextlib.suppress(psycopg.errors.UniqueViolation),
    ):
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def apply_migrations(database_url: str, schemas: list[str] | None = None) -> dict[str, int]:
    """Apply pending migrations of the given schemas (all by default); return how many ran."""
    applied: dict[str, int] = {}
    for schema in schemas or list(MIGRATION_SOURCES):
        _ensure_schema(database_url, schema)
        backend = get_backend(_yoyo_url(database_url, schema))
        migrations = read_migrations(*(str(folder) for folder in MIGRATION_SOURCES[schema]))
        try:
            with backend.lock():
                pending = backend.to_apply(migrations)
                backend.apply_migrations(pending)
        finally:
            backend.connection.close()
        applied[schema] = len(pending)
        log.info("migrations applied", extra={"schema": schema, "count": len(pending)})
    return applied


def pending_migrations(database_url: str, schemas: list[str] | None = None) -> dict[str, int]:
    """How many migrations of each schema are not applied yet; applies nothing."""
    pending: dict[str, int] = {}
    for schema in schemas or list(MIGRATION_SOURCES):
        migrations = read_migrations(*(str(folder) for folder in MIGRATION_SOURCES[schema]))
        if not _schema_exists(database_url, schema):
            pending[schema] = len(migrations)
            continue
        backend = get_backend(_yoyo_url(database_url, schema))
        try:
            pending[schema] = len(backend.to_apply(migrations))
        finally:
            backend.connection.close()
    return pending


def _schema_exists(database_url: str, schema: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None

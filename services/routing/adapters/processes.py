"""Deployed diagram versions."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import psycopg


@dataclass(frozen=True)
class ProcessVersion:
    id: str
    mall_id: str
    process_key: str
    version: int
    bpmn_xml: str
    dmn_xml: dict[str, str]
    source_hash: str
    deployed_by: str
    deployed_at: datetime
    note: str | None = None
    form_schemas: dict[str, str] = field(default_factory=dict)  # JSON-schema form files: name -> text
    # The BPMN of the deployed versions its call activities call, as they were when it was deployed.
    called_bpmn: dict[str, str] = field(default_factory=dict)  # process key -> XML


# A version's columns but its sources, which the diagram cache holds once parsed.
_HEADER = (
    "id, mall_id, process_key, version, '' AS bpmn_xml, '{}'::jsonb AS dmn_xml, source_hash, deployed_by,"
    " deployed_at, note, '{}'::jsonb AS form_schemas, '{}'::jsonb AS called_bpmn"
)


class ProcessRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def add(
        self,
        mall_id: str,
        process_key: str,
        bpmn_xml: str,
        dmn_xml: dict[str, str],
        source_hash: str,
        deployed_by: str,
        deployed_at: datetime,
        note: str | None,
        form_schemas: dict[str, str] | None = None,
        called_bpmn: dict[str, str] | None = None,
    ) -> ProcessVersion:
        # The advisory lock serialises deployments of one process, so version numbers never clash.
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{mall_id}/{process_key}",))
        row = self.conn.execute(
            "INSERT INTO routing.process_versions (id, mall_id, process_key, version, bpmn_xml, dmn_xml,"
            " source_hash, deployed_by, deployed_at, note, form_schemas, called_bpmn)"
            " SELECT %s, %s, %s, coalesce(max(version), 0) + 1, %s, %s, %s, %s, %s, %s, %s, %s"
            " FROM routing.process_versions WHERE mall_id = %s AND process_key = %s RETURNING *",
            (
                uuid.uuid4(),
                mall_id,
                process_key,
                bpmn_xml,
                json.dumps(dmn_xml),
                source_hash,
                deployed_by,
                deployed_at,
                note,
                json.dumps(form_schemas or {}),
                json.dumps(called_bpmn or {}),
                mall_id,
                process_key,
            ),
        ).fetchone()
        return _version(row)

    def newest(self, mall_id: str, process_key: str | None = None) -> ProcessVersion | None:
        """The newest version, without its sources (the diagram cache holds them once parsed)."""
        row = self.conn.execute(
            f"SELECT {_HEADER} FROM routing.process_versions WHERE mall_id = %s"  # noqa: S608 — constant columns
            " AND (%s::text IS NULL OR process_key = %s) ORDER BY deployed_at DESC, version DESC LIMIT 1",
            (mall_id, process_key, process_key),
        ).fetchone()
        return _version(row) if row else None

    def active(self, mall_id: str, process_key: str) -> ProcessVersion | None:
        """The version new cases of this process start (without its sources): the one last
        activated, or the newest when none ever was."""
        row = self.conn.execute(
            f"SELECT {_HEADER} FROM routing.process_versions WHERE id = (SELECT version_id"  # noqa: S608
            " FROM routing.process_activations WHERE mall_id = %s AND process_key = %s ORDER BY id DESC LIMIT 1)",
            (mall_id, process_key),
        ).fetchone()
        return _version(row) if row else self.newest(mall_id, process_key)

    def activate(self, version: ProcessVersion, by: str, at: datetime, reason: str) -> None:
        self.conn.execute(
            "INSERT INTO routing.process_activations (mall_id, process_key, version_id, activated_by,"
            " activated_at, reason) VALUES (%s, %s, %s, %s, %s, %s)",
            (version.mall_id, version.process_key, version.id, by, at, reason),
        )

    def activations(self, mall_id: str, process_key: str) -> list[dict]:
        """Every activation of the process, newest first: which version, who, when, why."""
        return self.conn.execute(
            "SELECT v.version, a.activated_by, a.activated_at, a.reason FROM routing.process_activations a"
            " JOIN routing.process_versions v ON v.id = a.version_id"
            " WHERE a.mall_id = %s AND a.process_key = %s ORDER BY a.id DESC",
            (mall_id, process_key),
        ).fetchall()

    def with_source(self, mall_id: str, process_key: str, source_hash: str) -> ProcessVersion | None:
        """The newest version of the process deployed from exactly these files, if any."""
        row = self.conn.execute(
            f"SELECT {_HEADER} FROM routing.process_versions WHERE mall_id = %s AND process_key = %s"  # noqa: S608
            " AND source_hash = %s ORDER BY version DESC LIMIT 1",
            (mall_id, process_key, source_hash),
        ).fetchone()
        return _version(row) if row else None

    def get(self, version_id: str) -> ProcessVersion | None:
        row = self.conn.execute(
            "SELECT * FROM routing.process_versions WHERE id = %s", (version_id,)
        ).fetchone()
        return _version(row) if row else None

    def find(self, mall_id: str, process_key: str, version: int) -> ProcessVersion | None:
        row = self.conn.execute(
            "SELECT * FROM routing.process_versions WHERE mall_id = %s AND process_key = %s AND version = %s",
            (mall_id, process_key, version),
        ).fetchone()
        return _version(row) if row else None

    def list(self, mall_id: str) -> list[ProcessVersion]:
        rows = self.conn.execute(
            "SELECT * FROM routing.process_versions WHERE mall_id = %s ORDER BY process_key, version DESC",
            (mall_id,),
        ).fetchall()
        return [_version(row) for row in rows]


def _version(row: dict) -> ProcessVersion:
    return ProcessVersion(
        id=str(row["id"]),
        mall_id=row["mall_id"],
        process_key=row["process_key"],
        version=row["version"],
        bpmn_xml=row["bpmn_xml"],
        dmn_xml=row["dmn_xml"],
        source_hash=row["source_hash"],
        deployed_by=row["deployed_by"],
        deployed_at=row["deployed_at"],
        note=row["note"],
        form_schemas=row["form_schemas"],
        called_bpmn=row["called_bpmn"],
    )

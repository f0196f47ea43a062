"""Canned replies the mall edits, by category: the desk picks one on the reply task and edits it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from services.common.errors import Conflict, InvalidInput, NotFound

_GET = "SELECT * FROM intake.reply_templates WHERE mall_id = %s AND id = %s"
_GET_FOR_UPDATE = _GET + " FOR UPDATE"


class ReplyTemplates:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def list(self, mall_id: str, category: str | None, include_retired: bool) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM intake.reply_templates WHERE mall_id = %(mall)s"
            " AND (%(category)s::text IS NULL OR category = %(category)s) AND (%(all)s OR NOT retired)"
            " ORDER BY category, retired, title, id",
            {"mall": mall_id, "category": category, "all": include_retired},
        ).fetchall()

    def get(self, mall_id: str, template_id: int, for_update: bool = False) -> dict[str, Any]:
        row = self.conn.execute(
            _GET_FOR_UPDATE if for_update else _GET,
            (mall_id, template_id),
        ).fetchone()
        if row is None:
            raise NotFound(f"no reply template {template_id}")
        return row

    def add(self, mall_id: str, data: dict, by: str, at: datetime) -> dict[str, Any]:
        self._title_free(mall_id, data["category"], data["title"], None)
        return self.conn.execute(
            "INSERT INTO intake.reply_templates (mall_id, category, title, body, created_at, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING *",
            (mall_id, data["category"], data["title"].strip(), data["body"].strip(), at, by),
        ).fetchone()

    def change(self, mall_id: str, template_id: int, changes: dict, by: str, at: datetime) -> dict[str, Any]:
        """Change category, title or body; `retired` true retires it (it stays on record, offered no more)."""
        current = self.get(mall_id, template_id, for_update=True)
        if changes.get("version") not in (None, current["version"]):
            raise Conflict(
                f"reply template {template_id} was changed meanwhile (version {current['version']})"
            )
        merged = {**current, **{k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}}
        if all(merged[key] == current[key] for key in ("category", "title", "body", "retired")):
            return current  # saved as it was: no new version, no "changed by" (a page saved twice, a retry)
        if not merged["retired"]:
            self._title_free(mall_id, merged["category"], merged["title"], template_id)
        return self.conn.execute(
            "UPDATE intake.reply_templates SET category = %s, title = %s, body = %s, retired = %s,"
            " updated_at = %s, updated_by = %s, version = version + 1"
            " WHERE mall_id = %s AND id = %s RETURNING *",
            (
                merged["category"],
                merged["title"],
                merged["body"],
                merged["retired"],
                at,
                by,
                mall_id,
                template_id,
            ),
        ).fetchone()

    def _title_free(self, mall_id: str, category: str, title: str, other_than: int | None) -> None:
        taken = self.conn.execute(
            "SELECT 1 FROM intake.reply_templates WHERE mall_id = %s AND category = %s AND title = %s"
            " AND NOT retired AND id IS DISTINCT FROM %s",
            (mall_id, category, title.strip(), other_than),
        ).fetchone()
        if taken:
            raise InvalidInput("title taken", {"title": ["another template of this category has this title"]})

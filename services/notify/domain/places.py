"""The mall's floors and departments by name, as notify's messages call them (三层, 保安部), never by code.

Intake owns this reference data; notify keeps a copy, read at start from the file the mall's reference
data is seeded from (NOTIFY_REFERENCE_FILE, shaped like services/intake/seed/demo_mall.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FLOOR, DEPARTMENT = "floor", "department"
_LISTS = {FLOOR: "floors", DEPARTMENT: "departments"}


@dataclass(frozen=True)
class Places:
    """Names by (kind, code) and language; a code with no name has none (it is never shown instead)."""

    names: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, reference: dict[str, Any]) -> Places:
        """From a reference file's `floors` and `departments`: each `code`, `name` (Chinese), `name_en`."""
        names = {}
        for kind, key in _LISTS.items():
            for item in reference.get(key) or ():
                given = {"zh-CN": item.get("name") or "", "en": item.get("name_en") or ""}
                names[(kind, str(item["code"]))] = {
                    language: name for language, name in given.items() if name
                }
        return cls(names)

    def name(self, kind: str, code: str | None, language: str) -> str:
        """三层 for the floor 3F (Level 3 in English, or the Chinese name when it has none); '' if unknown."""
        if not code:
            return ""
        found = self.names.get((kind, code)) or {}
        return found.get(language) or found.get("zh-CN") or ""

    def knows(self, kind: str, code: str | None) -> bool:
        return (kind, code) in self.names

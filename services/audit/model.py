"""What an audit found: findings (the books disagree: exit 1) and notices (worth knowing, not wrong)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Finding:
    check: str  # a stable name (`missing_case`, `dead_letter`, …): docs/operations.md explains each
    subject: str  # what it is about: a complaint number, a queue, an outbox
    detail: str  # one line an operator can act on
    data: dict[str, Any] = field(default_factory=dict)  # ids and figures, for --json


@dataclass
class AuditReport:
    checked_at: datetime
    settle_seconds: float
    outbox_seconds: float
    counts: dict[str, int] = field(default_factory=dict)  # what was looked at
    findings: list[Finding] = field(default_factory=list)
    notices: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def of(self, check: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.check == check]

    def as_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "checked_at": self.checked_at.isoformat(),
            "settle_seconds": self.settle_seconds,
            "outbox_seconds": self.outbox_seconds,
            "counts": self.counts,
            "findings": [asdict(finding) for finding in self.findings],
            "notices": [asdict(notice) for notice in self.notices],
        }

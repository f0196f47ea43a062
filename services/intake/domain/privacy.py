"""Customers' personal information requests (PIPL): a copy of what is held of them, or its erasure.

A customer is known by the phone number or e-mail address its complaints hold now. A value kept only
in a correction's history is not looked for: a number typed wrongly at the desk may be another
person's, whose complaint that is not. It comes with the complaint it belongs to instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.common.scrubber import mask_email, mask_phone


class RequestKind(StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


@dataclass(frozen=True)
class Contact:
    """How the customer is found: a phone number (compared digit for digit, +86 aside) or an e-mail
    address (compared without regard to case)."""

    kind: str  # "phone" or "email"
    value: str

    @classmethod
    def of(cls, text: str) -> Contact:
        text = text.strip()
        return cls("email", text.lower()) if "@" in text else cls("phone", text)

    def masked(self) -> str:
        """As logs and the audit show it: 139****5678, w***@example.cn."""
        if self.kind == "email":
            return mask_email(self.value)
        return mask_phone(re.sub(r"\D", "", self.value))

    def as_customer(self) -> dict[str, str]:
        return {self.kind: self.value}


@dataclass(frozen=True)
class PrivacyRequest:
    """One request answered: who asked, when, why, for which customer (masked), which complaints."""

    id: str
    mall_id: str
    kind: RequestKind
    contact_kind: str
    contact_masked: str
    reason: str
    requested_by: str
    requested_role: str | None
    requested_at: datetime
    complaint_ids: tuple[str, ...]
    numbers: tuple[str, ...]

"""Applying a correction to a complaint and describing exactly what changed."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from services.common.settings import Policy
from services.intake.domain import rules
from services.intake.domain.commands import CorrectComplaint
from services.intake.domain.model import Complaint, Merchant

# Fields a correction may change; number, channel and receipt time never change.
CORRECTABLE = (
    "category",
    "description",
    "occurred_at",
    "floor",
    "department",
    "about_department_manager",
    "handle_directly",
    "customer_request",
    "amount",
    "people_count",
    "injury",
    "media_exposure",
    "lawsuit",
    "promised_reply_date",  # on the day of intake only: `rules.check_reply_date_correction`
)


def apply_corrections(
    current: Complaint, command: CorrectComplaint, merchant: Merchant | None, policy: Policy
) -> tuple[Complaint, dict[str, Any]]:
    """The corrected complaint (severity recomputed) and {field: {"old", "new"}} of what changed."""
    updates = {name: value for name, value in command.changes.items() if name in CORRECTABLE}
    if "merchant_code" in command.changes:
        code = command.changes["merchant_code"]
        updates["merchant"] = (
            merchant if merchant or code is None else Merchant(code=code, shop_name="", floor="")
        )
        if merchant and "floor" not in command.changes:
            updates["floor"] = merchant.floor
    if command.customer_changes:
        updates["customer"] = replace(current.customer, **command.customer_changes)
    corrected = rules.with_severity(replace(current, **updates), policy)
    return corrected, describe_changes(current, corrected)


def describe_changes(old: Complaint, new: Complaint) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in (*CORRECTABLE, "merchant", "severity", "major_reasons"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes[name] = {"old": _plain(before), "new": _plain(after)}
    for name, before in asdict(old.customer).items():
        after = getattr(new.customer, name)
        if before != after:
            changes[f"customer.{name}"] = {"old": _plain(before), "new": _plain(after)}
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Merchant):
        return asdict(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value

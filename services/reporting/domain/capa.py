"""Corrective and preventive action (客诉纠正与预防措施): when a problem recurs, and how its record moves.

A problem recurs when `recurrences` complaints of the same problem (see CaseFacts.problem_key) were
received within `window`, whatever order their events arrived in: the test looks for any such run
among the complaints known, not only the run ending with the newest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class CapaStatus(StrEnum):
    OPEN = "open"  # opened by the recurrence, nobody has planned anything yet
    IN_PROGRESS = "in_progress"  # cause and action being worked on
    VERIFIED = "verified"  # the action was checked and works: the record is closed


# Fields the operations manager fills in; status moves by the rules below.
EDITABLE = ("cause", "action", "owner", "due_date", "verification")
NEEDED_TO_VERIFY = ("cause", "action", "owner", "verification")


@dataclass(frozen=True)
class Occurrence:
    complaint_id: str
    number: str | None
    received_at: datetime


def recurring_run(occurrences: Sequence[Occurrence], recurrences: int, window: timedelta) -> list[Occurrence]:
    """The first `recurrences` complaints received within `window` of each other, or [] if none."""
    if recurrences < 1:
        return []
    ordered = sorted(occurrences, key=lambda item: (item.received_at, item.complaint_id))
    for start in range(len(ordered) - recurrences + 1):
        run = ordered[start : start + recurrences]
        if run[-1].received_at - run[0].received_at <= window:
            return run
    return []


@dataclass(frozen=True)
class CapaRecord:
    """The fields of a CAPA record the rules look at."""

    status: str
    cause: str | None = None
    action: str | None = None
    owner: str | None = None
    due_date: date | None = None
    verification: str | None = None


def check_update(current: CapaRecord, changes: dict, new_status: str | None) -> dict[str, list[str]]:
    """Field errors of an update of a record not yet verified (empty when it may be applied)."""
    errors: dict[str, list[str]] = {}
    if new_status == CapaStatus.OPEN and current.status != CapaStatus.OPEN:
        errors["status"] = ["a record being worked on cannot go back to open"]
    if new_status == CapaStatus.VERIFIED:
        merged = {name: changes.get(name, getattr(current, name)) for name in NEEDED_TO_VERIFY}
        for name, value in merged.items():
            if not (value.strip() if isinstance(value, str) else value):  # blanks are nothing written
                errors[name] = ["needed before the record can be verified"]
    return errors


def next_status(current: CapaRecord, changes: dict, new_status: str | None) -> str:
    """The status after an update: asked for, or in progress once anything is filled in."""
    if new_status:
        return new_status
    if current.status == CapaStatus.OPEN and any(changes.get(name) for name in EDITABLE):
        return CapaStatus.IN_PROGRESS
    return current.status

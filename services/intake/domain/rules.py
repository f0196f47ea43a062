"""The rules PROCESS.md sets for a complaint at intake: completeness, severity, reply date, number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.common.receipts import number_of
from services.common.settings import Policy
from services.intake.domain.contact_rules import check_anonymous, check_customer
from services.intake.domain.field_errors import FieldErrors, any_unread, merged, readable
from services.intake.domain.model import (
    DEPARTMENT_CATEGORIES,
    MERCHANT_CATEGORIES,
    Channel,
    Complaint,
    Severity,
)

# A customer on the web form may not know the floor or department; the desk completes those
# fields by correction. Every other channel is recorded by the desk, which must fill them in.
SELF_SERVICE_CHANNELS = {Channel.WEB}
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class ReferenceCheck:
    """What the reference data says about the floor, merchant and department named."""

    floor_known: bool = True
    merchant_known: bool = True
    merchant_floor: str | None = None
    department_known: bool = True


def check_place(
    complaint: Complaint, reference: ReferenceCheck, unread: frozenset[str] = frozenset()
) -> FieldErrors:
    """Floor, merchant and department must exist and agree; categories need what triage uses.

    A place field in `unread` counts as given: the request named one, the schema refused it.
    """
    errors: FieldErrors = {}
    if complaint.floor and not reference.floor_known:
        errors["floor"] = [f"unknown floor {complaint.floor!r}"]
    if complaint.merchant and not reference.merchant_known:
        errors["merchant_code"] = [f"unknown merchant {complaint.merchant.code!r}"]
    elif complaint.merchant and complaint.floor and reference.merchant_floor != complaint.floor:
        errors["merchant_code"] = [f"merchant is on floor {reference.merchant_floor}, not {complaint.floor}"]
    if complaint.department and not reference.department_known:
        errors["department"] = [f"unknown department {complaint.department!r}"]
    if any_unread(unread, "channel") or complaint.channel in SELF_SERVICE_CHANNELS:
        return errors
    merchant_named = complaint.merchant or any_unread(unread, "merchant_code")
    if complaint.category in MERCHANT_CATEGORIES and not (complaint.floor or merchant_named):
        errors.setdefault("floor", []).append("a merchant complaint needs the floor or the merchant")
    needs_department = complaint.category in DEPARTMENT_CATEGORIES and not complaint.handle_directly
    if any_unread(unread, "handle_directly"):
        needs_department = False
    if needs_department and not merchant_named and not complaint.department:
        errors.setdefault("department", []).append(
            f"a {complaint.category} complaint needs the department concerned (or handle_directly)"
        )
    return errors


# A reply promised further off than this is a slip (9999-12-31), not a date agreed with a customer:
# its deadlines and reminders would never come.
FURTHEST_REPLY = timedelta(days=366)


def check_dates(complaint: Complaint, now: datetime, zone: ZoneInfo) -> FieldErrors:
    errors: FieldErrors = {}
    if complaint.occurred_at and complaint.occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = ["cannot be in the future"]
    received = complaint.received_at.astimezone(zone).date()
    if complaint.promised_reply_date < received:
        errors["promised_reply_date"] = ["cannot be before the day the complaint was received"]
    elif complaint.promised_reply_date > received + FURTHEST_REPLY:
        errors["promised_reply_date"] = ["at most a year after the day the complaint was received"]
    return errors


def check_reply_date_correction(
    current: Complaint, corrected: Complaint, now: datetime, zone: ZoneInfo
) -> FieldErrors:
    """The promised reply date, told to the customer, may be corrected only on the day of intake (a
    slip of the desk's); from the next day on, a new date is a postponement the customer agrees to."""
    if corrected.promised_reply_date == current.promised_reply_date:
        return {}
    if now.astimezone(zone).date() != current.received_at.astimezone(zone).date():
        return {
            "promised_reply_date": [
                "can be corrected only on the day of intake; agree a postponement with the customer instead"
            ]
        }
    return {}


def major_reasons(complaint: Complaint, policy: Policy) -> tuple[str, ...]:
    """Why a complaint is major (重大投诉), in PROCESS.md's order; empty when it is normal.

    'Unresolved one month after intake' is a timer in routing, not a fact known at intake.
    """
    reasons = []
    if complaint.injury:
        reasons.append("injury")
    if complaint.amount is not None and complaint.amount > policy.major_amount:
        reasons.append("large_amount")
    if complaint.lawsuit:
        reasons.append("lawsuit")
    if complaint.media_exposure:
        reasons.append("media_exposure")
    if complaint.people_count >= policy.major_people_count:
        reasons.append("collective")
    return tuple(reasons)


def with_severity(complaint: Complaint, policy: Policy) -> Complaint:
    reasons = major_reasons(complaint, policy)
    severity = Severity.MAJOR if reasons else Severity.NORMAL
    return complaint.with_changes(severity=severity, major_reasons=reasons)


def default_promised_reply_date(received_at: datetime, policy: Policy, zone: ZoneInfo) -> date:
    """The first promised reply date: receipt (in the mall's zone) plus the policy's delay."""
    return (received_at.astimezone(zone) + policy.first_reply_after).date()


NUMBER_DIGITS = 4


def number_prefix(day: date) -> str:
    return number_of(day, "")


def format_number(day: date, sequence: int) -> str:
    """The receipt number, e.g. TS-20261122-0007 (more digits after the 9,999th of a day)."""
    return number_of(day, f"{sequence:0{NUMBER_DIGITS}d}")


def check_all(
    complaint: Complaint,
    reference: ReferenceCheck,
    now: datetime,
    zone: ZoneInfo,
    unread: frozenset[str] = frozenset(),
) -> FieldErrors:
    """Every intake rule at once, so the desk sees all problems in one answer.

    With `unread` (the fields the schema refused, whose values are unknown), only what can be known
    without them is judged, and a refused field gets no second message: the schema's says it.
    """
    errors = merged(
        check_customer(complaint, unread),
        check_place(complaint, reference, unread),
        check_dates(complaint, now, zone),
    )
    return readable(errors, unread)


def check_new(
    complaint: Complaint,
    reference: ReferenceCheck,
    now: datetime,
    zone: ZoneInfo,
    unread: frozenset[str] = frozenset(),
) -> FieldErrors:
    """Every rule for a complaint being recorded: check_all's and those a correction is spared."""
    return merged(
        check_all(complaint, reference, now, zone, unread),
        readable(check_anonymous(complaint, unread), unread),
    )

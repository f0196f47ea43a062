"""Personal data inside stored records and events, and how it is erased when it is kept no longer.

The retention contract (PROCESS.md: records kept 2 years, then personal data erased, statistics kept)
names what is personal: the customer's name, phone, email and address; phone numbers and e-mail
addresses written into free text (the narrative, replies, notes); and the same inside stored event
envelopes. Every service erases with these functions, so they agree on what is left.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

CUSTOMER_FIELDS = ("name", "phone", "email", "address")
ERASED = "[已删除]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Mainland mobiles (with an optional +86, dashes or spaces between the groups), landlines with an area
# code, and 3-4-4 groups of digits, as people write phone numbers in a narrative (Chinese text has no
# spaces, so only Latin letters and digits next to a number stop it from matching).
# Dates (2026-11-25), times, amounts (399.00) and receipt numbers (TS-20261122-0007) do not match.
_PHONE = re.compile(
    r"(?<![A-Za-z0-9.])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![A-Za-z0-9.])"
    r"|(?<![A-Za-z0-9.])0\d{2,3}[- ]?\d{7,8}(?![A-Za-z0-9.])"
    r"|(?<![A-Za-z0-9.-])\d{3,4} \d{3,4} \d{4}(?![A-Za-z0-9.])"
)


def known_ids(complaint_ids: list[str]) -> list[str]:
    """The ids of an erasure request that can name a complaint (a uuid); any other was never ours."""
    valid = []
    for complaint_id in complaint_ids:
        try:
            valid.append(str(uuid.UUID(complaint_id)))
        except ValueError:
            continue
    return valid


def scrub_text(text: str, marker: str = ERASED) -> str:
    """The text with every e-mail address and phone number in it replaced by a marker."""
    return _PHONE.sub(marker, _EMAIL.sub(marker, text))


def erase_customer(customer: dict[str, Any]) -> dict[str, Any]:
    """A customer record without name, phone, email and address; its flags and preferences stay."""
    return {key: (None if key in CUSTOMER_FIELDS else value) for key, value in customer.items()}


def erase_personal(value: Any) -> Any:
    """A copy of any JSON value with the personal data erased.

    `customer` objects lose their contact fields; corrections of `customer.*` fields lose their old
    and new values; every other text keeps its words but not the phone numbers or addresses in it.
    Keys, numbers, booleans, dates and the order of keys stay as they were.
    """
    if isinstance(value, dict):
        return {key: _erase_entry(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [erase_personal(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def _erase_entry(key: str, value: Any) -> Any:
    if key == "customer" and isinstance(value, dict):
        return erase_personal(erase_customer(value))
    if key.startswith("customer.") and key.split(".", 1)[1] in CUSTOMER_FIELDS:
        return {name: None for name in value} if isinstance(value, dict) else None
    return erase_personal(value)


# How contact details are shown to staff who need not see them in full: 王**, 139****5678, w***@example.com.


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.replace(" ", "").replace("-", "")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"

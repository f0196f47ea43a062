"""Personal data inside stored records and events, and how it is erased when it is kept no longer.

The retention contract (PROCESS.md: records kept 2 years, then personal data erased, statistics kept)
names what is personal: the customer's name, phone, email and address; phone numbers and e-mail
addresses written into free text (the narrative, replies, notes); and the same inside stored event
envelopes. Every service erases with these functions, so they agree on what is left.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

# The masks are re-exported: callers that erase and callers that mask import them from here.
from services.common.scrubber import customer_masks, mask_email, mask_name, mask_phone, scrub

CUSTOMER_FIELDS = ("name", "phone", "email", "address")
ERASED = "[已删除]"

__all__ = [
    "CUSTOMER_FIELDS",
    "ERASED",
    "corrected_customers",
    "customer_masks",
    "customers_in",
    "erase_customer",
    "erase_personal",
    "known_ids",
    "mask_email",
    "mask_name",
    "mask_phone",
    "scrub_text",
]


def known_ids(complaint_ids: list[str]) -> list[str]:
    """The ids of an erasure request that can name a complaint (a uuid); any other was never ours."""
    valid = []
    for complaint_id in complaint_ids:
        try:
            valid.append(str(uuid.UUID(complaint_id)))
        except ValueError:
            continue
    return valid


def scrub_text(text: str, marker: str = ERASED, known: Mapping[str, str] | None = None) -> str:
    """The text with every phone number, e-mail address, ID or bank card number in it replaced by a
    marker (the scrubber's patterns: what is erased is what masked views hide), and the customer's
    own details too when `known` (`customer_masks`) names them: "已致电王女士" loses the name."""
    return scrub(text, known, marker=marker)


def erase_customer(customer: dict[str, Any]) -> dict[str, Any]:
    """A customer record without name, phone, email and address; its flags and preferences stay."""
    return {key: (None if key in CUSTOMER_FIELDS else value) for key, value in customer.items()}


def erase_personal(value: Any, known: Mapping[str, str] | None = None) -> Any:
    """A copy of any JSON value with the personal data erased.

    `customer` objects lose their contact fields; corrections of `customer.*` fields lose their old
    and new values; every other text keeps its words but not the phone numbers or addresses in it,
    nor the customer's own name, phone, e-mail and address when `known` names them. Keys, numbers,
    booleans, dates and the order of keys stay as they were.
    """
    if isinstance(value, dict):
        return {key: _erase_entry(key, item, known) for key, item in value.items()}
    if isinstance(value, list):
        return [erase_personal(item, known) for item in value]
    if isinstance(value, str):
        return scrub_text(value, known=known)
    return value


def _erase_entry(key: str, value: Any, known: Mapping[str, str] | None) -> Any:
    if key == "customer" and isinstance(value, dict):
        return erase_personal(erase_customer(value), known)
    if key.startswith("customer.") and key.split(".", 1)[1] in CUSTOMER_FIELDS:
        return {name: None for name in value} if isinstance(value, dict) else None
    return erase_personal(value, known)


def corrected_customers(changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The customer's details before and after one correction (`{"customer.email": {"old", "new"}}`),
    as two customer objects, so the old ones are found in free text too."""
    return [
        {name: _side(changes.get(f"customer.{name}"), side) for name in CUSTOMER_FIELDS}
        for side in ("old", "new")
    ]


def _side(change: Any, side: str) -> Any:
    return change.get(side) if isinstance(change, dict) else None


def customers_in(value: Any) -> list[dict[str, Any]]:
    """Every `customer` object inside a JSON value (a case's workflow data keeps the complaint, and a
    corrected one beside the first), for finding the customer's own details in free text."""
    if isinstance(value, dict):
        found = [value["customer"]] if isinstance(value.get("customer"), dict) else []
        return found + [customer for item in value.values() for customer in customers_in(item)]
    if isinstance(value, list):
        return [customer for item in value for customer in customers_in(item)]
    return []

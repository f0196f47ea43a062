"""The complaint record (客户投诉记录) as intake keeps it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    PHONE = "phone"
    SUGGESTION_BOX = "suggestion_box"
    LETTER = "letter"
    EMAIL = "email"
    ON_SITE = "on_site"
    WEB = "web"


class Category(StrEnum):
    QUALITY = "quality"
    PRICE = "price"
    MERCHANT_SERVICE = "merchant_service"
    STAFF_SERVICE = "staff_service"
    ENVIRONMENT = "environment"
    FACILITY = "facility"
    FEE = "fee"
    EMERGENCY = "emergency"


class ReplyChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    ON_SITE = "on_site"
    NONE = "none"


class CustomerRequest(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    COMPENSATION = "compensation"
    APOLOGY = "apology"
    OTHER = "other"


def customer_requests(codes: Iterable[str] | None) -> tuple[CustomerRequest, ...]:
    """What the customer asks for, in the order given; nothing given is ()."""
    return tuple(CustomerRequest(code) for code in codes or ())


class Severity(StrEnum):
    NORMAL = "normal"
    MAJOR = "major"


class Status(StrEnum):
    RECEIVED = "received"


# Categories that concern one merchant, and those that concern one mall department.
MERCHANT_CATEGORIES = {Category.PRICE, Category.MERCHANT_SERVICE}
DEPARTMENT_CATEGORIES = {Category.ENVIRONMENT, Category.FACILITY, Category.FEE, Category.STAFF_SERVICE}


@dataclass(frozen=True)
class Customer:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    anonymous: bool = False
    preferred_reply_channel: ReplyChannel | None = None
    language: str = "zh-CN"
    contact_opt_out: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The fields as a new dict. Every value is immutable, so none is copied, where
        `dataclasses.asdict` would deep-copy each (ten times slower, on every request)."""
        return dict(vars(self))


@dataclass(frozen=True)
class Merchant:
    """A shop as reference data describes it, copied into the complaint when recorded."""

    code: str
    shop_name: str
    floor: str
    unit: str | None = None
    person_in_charge: str | None = None
    phone: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields as a new dict. Every value is immutable, so none is copied, where
        `dataclasses.asdict` would deep-copy each (ten times slower, on every request)."""
        return dict(vars(self))


@dataclass(frozen=True)
class Complaint:
    """One complaint as recorded at intake; corrections produce a new value."""

    id: str
    mall_id: str
    number: str
    channel: Channel
    category: Category
    customer: Customer
    description: str
    received_at: datetime
    received_by: str
    promised_reply_date: date
    severity: Severity = Severity.NORMAL
    major_reasons: tuple[str, ...] = ()
    status: Status = Status.RECEIVED
    occurred_at: datetime | None = None
    floor: str | None = None
    merchant: Merchant | None = None
    department: str | None = None
    about_department_manager: bool = False
    handle_directly: bool = False
    customer_request: tuple[CustomerRequest, ...] = ()
    amount: Decimal | None = None
    people_count: int = 1
    injury: bool = False
    media_exposure: bool = False
    lawsuit: bool = False
    consented_at: datetime | None = None  # when the customer agreed to the web form's notice (PIPL)
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def request_codes(self) -> list[str] | None:
        """What the customer asks for as plain codes, for rows and messages; None when nothing was given."""
        return [request.value for request in self.customer_request] or None

    def with_changes(self, **changes: Any) -> Complaint:
        return replace(self, **changes)

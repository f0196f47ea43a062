"""The values a template sees: the complaint's facts in the recipient's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.common import i18n as vocabulary
from services.notify.domain.model import ComplaintFacts, Recipient, Request

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def long_date(value: date | str | None, language: str) -> str:
    """2026年11月25日 / 25 November 2026; an ISO text is read first; None gives ''."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if language == "en":
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return f"{value.year}年{value.month}月{value.day}日"


def role_name(queue: str | None, language: str) -> str:
    """A queue's role as the mall's vocabulary names it (服务台; Service desk)."""
    return vocabulary.term("role", queue, language)


def template_values(
    request: Request,
    complaint: ComplaintFacts,
    recipient: Recipient,
    mall_name: str,
    today: date,
    received_on: date | None,
    status_url: str = "",
    desk_phone: str = "",
) -> dict[str, Any]:
    """Everything documented in docs/templates.md, for one recipient."""
    language = recipient.language
    data = request.data or {}
    customer = complaint.customer
    handler = request.to if recipient.audience == "staff" else data.get("last_resolver") or data.get("queue")
    merchant = complaint.merchant or {}
    return {
        "mall_name": mall_name,
        "number": request.number,
        "kind": request.kind,
        "audience": str(recipient.audience),
        "recipient_name": recipient.name or "",
        "customer_name": customer.name or "",
        "salutation": _salutation(customer.name, language),
        "promised_reply_date": long_date(complaint.promised_reply_date, language),
        # the reply date in force: the latest the customer agreed to (`postponed_to`; `reply_due` in
        # cases started on earlier diagrams), or the promised one
        "reply_date": long_date(
            data.get("postponed_to") or data.get("reply_due") or complaint.promised_reply_date, language
        ),
        "received_date": long_date(received_on, language),
        "today": long_date(today, language),
        "handler_role": role_name(handler, language),
        "queue": request.to,
        "category": vocabulary.term("category", complaint.category, language),
        "complaint_channel": complaint.channel,
        "floor": complaint.floor or "",
        "department": complaint.department or "",
        "shop_name": merchant.get("shop_name") or "",
        "reply_text": data.get("reply_text") or "",
        "resolution": data.get("resolution") or "",
        "new_reply_date": long_date(data.get("new_reply_date"), language),
        "status_url": status_url,
        "desk_phone": desk_phone,
        "data": data,
    }


def _salutation(name: str | None, language: str) -> str:
    if language == "en":
        return f"Dear {name}," if name else "Dear customer,"
    return f"尊敬的{name}：" if name else "尊敬的顾客："

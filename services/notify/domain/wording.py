"""The values a template sees: the complaint's facts in the recipient's language.

Every word comes from the mall's one vocabulary (services/common/i18n's Babel catalogues): terms by
`term`, the services' own sentences by `message`, and dates by the catalogue's pattern for the
language, spelt by Babel (its CLDR data names the months), in the mall's time zone. Floors and
departments are named by the mall's reference data (`Places`), never shown as codes.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.lists import format_list

from services.common import i18n as vocabulary
from services.notify.domain.model import ComplaintFacts, Contact, Recipient, Request
from services.notify.domain.places import DEPARTMENT, FLOOR, Places


def long_date(value: date | str | None, language: str, zone: ZoneInfo | None = None) -> str:
    """2026年11月25日 / 25 November 2026; an ISO text is read first, a time is taken in the mall's
    zone; None gives ''."""
    value = _read(value)
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, datetime):
        value = (value.astimezone(zone) if zone and value.tzinfo else value).date()
    return format_date(value, _pattern("long_date", language), locale=_locale(language))


def date_time(value: datetime | str | None, language: str, zone: ZoneInfo | None = None) -> str:
    """2026年11月22日 10:00 / 22 November 2026, 10:00, in the mall's zone; a date alone as long_date."""
    value = _read(value)
    if not isinstance(value, datetime):
        return long_date(value, language, zone)
    local = value.astimezone(zone) if zone and value.tzinfo else value
    return format_datetime(local, _pattern("date_time", language), locale=_locale(language))


def _read(value: date | str | None) -> date | str | None:
    if not isinstance(value, str) or not value:
        return value
    try:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return value


def _pattern(name: str, language: str) -> str:
    return vocabulary.term("wording", name, language)


@functools.lru_cache(maxsize=32)
def _locale(language: str) -> Locale:
    """Babel's locale of a language, parsed once: parsing it again for every date was five sixths of
    formatting one (18 µs against 3)."""
    return Locale.parse(vocabulary.normalise(language).replace("-", "_"))


def role_name(queue: str | None, language: str) -> str:
    """A queue's role as the mall's vocabulary names it (服务台; Service desk)."""
    return vocabulary.term("role", queue, language)


def kind_name(kind: str | None, language: str) -> str:
    """A message kind's name (升级; Escalation); a kind the catalogue does not know yet is 新通知."""
    if vocabulary.known("notice", kind):
        return vocabulary.term("notice", kind, language)
    return vocabulary.term("wording", "other_notice", language)


def template_values(
    request: Request,
    complaint: ComplaintFacts,
    recipient: Recipient,
    mall_name: str,
    today: date,
    received_on: date | None,
    status_url: str = "",
    desk_phone: str = "",
    places: Places | None = None,
    zone: ZoneInfo | None = None,
) -> dict[str, Any]:
    """Everything documented in docs/templates.md, for one recipient."""
    language = recipient.language
    data = request.data or {}
    customer = complaint.customer
    handler = request.to if recipient.audience == "staff" else data.get("last_resolver") or data.get("queue")
    merchant = complaint.merchant or {}
    places = places or Places()
    return {
        "mall_name": mall_name,
        "number": request.number,
        "kind": request.kind,
        "kind_name": kind_name(request.kind, language),
        "audience": str(recipient.audience),
        "recipient_name": recipient.name or "",
        "customer_name": customer.name or "",
        "salutation": salutation(customer.name, language),
        "promised_reply_date": long_date(complaint.promised_reply_date, language, zone),
        # the reply date in force: the latest the customer agreed to (`postponed_to`; `reply_due` in
        # cases started on earlier diagrams), or the promised one
        "reply_date": long_date(
            data.get("postponed_to") or data.get("reply_due") or complaint.promised_reply_date, language, zone
        ),
        "received_date": long_date(received_on, language, zone),
        "received_at": date_time(complaint.received_at, language, zone),
        "today": long_date(today, language, zone),
        "handler_role": role_name(handler, language),
        # who asked another department to act (the note_who_asked step keeps the queue)
        "asked_by_role": role_name(data.get("asked_by"), language) if data.get("asked_by") else "",
        "queue": request.to,
        "category": vocabulary.term("category", complaint.category, language),
        "complaint_channel": complaint.channel,
        "complaint_channel_name": vocabulary.term("channel", complaint.channel, language),
        "floor": places.name(FLOOR, complaint.floor, language),
        "department": places.name(DEPARTMENT, complaint.department, language),
        "floor_code": complaint.floor or "",
        "department_code": complaint.department or "",
        "shop_name": merchant.get("shop_name") or "",
        "reply_text": data.get("reply_text") or "",
        "resolution": data.get("resolution") or "",
        "new_reply_date": long_date(data.get("new_reply_date"), language, zone),
        "major_reasons": major_reasons(data.get("major_reasons"), language),
        "status_url": status_url,
        "status_proof": status_proof(customer, language),
        "desk_phone": desk_phone,
        **failure_values(data, language),
        "data": data,
    }


def major_reasons(codes: list[str] | None, language: str) -> str:
    """Why a complaint is major, as a list a reader says (人身伤害和媒体曝光; injury and media exposure)."""
    names = [vocabulary.term("major_reason", code, language) for code in codes or []]
    return format_list(names, locale=_locale(language)) if names else ""


def failure_values(data: dict[str, Any], language: str) -> dict[str, str]:
    """What a `delivery_failed` alert says of the message that did not go, in the reader's words."""
    return {
        "failed_kind": kind_name(data.get("failed_kind"), language) if data.get("failed_kind") else "",
        "failed_audience": vocabulary.term("audience", data.get("failed_audience"), language),
        "failed_channel": vocabulary.term("delivery_channel", data.get("failed_channel"), language),
        "error": vocabulary.message(data.get("error") or "", language),
    }


def status_proof(customer: Contact, language: str) -> str:
    """What the customer types beside the number on the status page: the last four digits of the phone
    the complaint gave, else its e-mail address (intake's status lookup takes either); empty when it
    gave neither, and the page can show the complaint to nobody."""
    if customer.phone:
        return vocabulary.term("wording", "status_proof_phone", language)
    if customer.email:
        return vocabulary.term("wording", "status_proof_email", language)
    return ""


def salutation(name: str | None, language: str) -> str:
    """尊敬的王女士： / Dear Ms Wang, — or the greeting without a name."""
    if name:
        return vocabulary.term("wording", "salutation_named", language).format(name=name)
    return vocabulary.term("wording", "salutation", language)


def robot_name(whose: str, language: str) -> str:
    """A group robot as the delivery log names it: 保安部群机器人."""
    return vocabulary.term("wording", "robot_of", language).format(name=whose)

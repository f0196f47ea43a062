"""What the customers' status page tells a customer: where the complaint is and what comes next, in
plain words, and who may ask (the complaint's number with the last four digits of its phone, or its
e-mail address). Never a name, a phone number or a member of staff."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date

from services.common import i18n as vocabulary

# Stages as the customer sees them: received (no one has it yet), handling, replied, closed.
STAGES = ("received", "handling", "replied", "closed")  # named by the catalogue's `status_page` entries


@dataclass(frozen=True)
class CustomerStatus:
    number: str
    stage: str
    promised_reply_date: date
    replied_on: date | None = None  # the day the customer was answered, once they were

    def words(self, language: str) -> dict:
        status = vocabulary.term("status_page", f"stage.{self.stage}", language)
        next_step = vocabulary.term("status_page", f"next.{self.stage}", language)
        return {
            "number": self.number,
            "stage": self.stage,
            "status": status,
            "next_step": next_step,
            "promised_reply_date": self.promised_reply_date.isoformat(),
            "replied_on": self.replied_on.isoformat() if self.replied_on else None,
        }


def stage_of(progress_stage: str | None, has_tasks: bool) -> str:
    """The customer's stage from routing's progress; a case some task has reached is being handled."""
    if progress_stage in STAGES:
        return progress_stage
    return "handling" if has_tasks else "received"


def digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def proves_contact(customer_phone: str | None, customer_email: str | None, given: str) -> bool:
    """The last four digits of the customer's phone, or the e-mail address (any case), as given."""
    given = given.strip()
    if "@" in given:
        expected = (customer_email or "").strip().lower()
        return bool(expected) and hmac.compare_digest(expected.encode(), given.lower().encode())
    phone = digits(customer_phone)
    return len(phone) >= 4 and len(digits(given)) == 4 and hmac.compare_digest(phone[-4:], digits(given))

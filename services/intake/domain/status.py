"""What the customers' status page tells a customer: where the complaint is and what comes next, in
plain words, and who may ask (the complaint's number with the last four digits of its phone, or its
e-mail address). Never a name, a phone number or a member of staff."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date

# Stages as the customer sees them: received (no one has it yet), handling, replied, closed.
STAGES = ("received", "handling", "replied", "closed")

WORDS = {
    "zh-CN": {
        "received": ("已受理", "我们已收到您的投诉，正在安排专人处理。"),
        "handling": ("处理中", "商场正在调查处理您的投诉，将在答复日期前答复您。"),
        "replied": ("已答复", "我们已将处理结果答复您，服务台将电话回访，了解您是否满意。"),
        "closed": ("已办结", "您的投诉已处理完毕。如仍有疑问，请联系商场服务台。"),
    },
    "en": {
        "received": ("Received", "We have your complaint and are assigning someone to handle it."),
        "handling": (
            "Being handled",
            "The mall is looking into your complaint and will answer you by the reply date.",
        ),
        "replied": (
            "Answered",
            "We have given you our answer; the service desk will call to ask whether you are satisfied.",
        ),
        "closed": (
            "Closed",
            "Your complaint has been dealt with. For any question, contact the service desk.",
        ),
    },
}


@dataclass(frozen=True)
class CustomerStatus:
    number: str
    stage: str
    promised_reply_date: date

    def words(self, language: str) -> dict:
        status, next_step = WORDS.get(language, WORDS["zh-CN"])[self.stage]
        return {
            "number": self.number,
            "stage": self.stage,
            "status": status,
            "next_step": next_step,
            "promised_reply_date": self.promised_reply_date.isoformat(),
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

"""Intake's rules, as pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.common.settings import Policy
from services.intake.domain import contact_rules, rules
from services.intake.domain.model import Category, Channel, Complaint, Customer, Merchant, ReplyChannel

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def make(**changes) -> Complaint:
    base = Complaint(
        id="c1",
        mall_id="demo",
        number="",
        channel=Channel.PHONE,
        category=Category.QUALITY,
        customer=Customer(name="王女士", phone="13912345678"),
        description="饮料过期",
        received_at=NOW,
        received_by="desk",
        promised_reply_date=date(2026, 11, 25),
    )
    return base.with_changes(**changes)


def test_the_receipt_number_is_the_day_and_a_four_digit_sequence():
    assert rules.format_number(date(2026, 11, 22), 7) == "TS-20261122-0007"
    assert rules.format_number(date(2026, 11, 22), 12345) == "TS-20261122-12345"


def test_the_first_reply_date_counts_from_the_mall_day_not_the_utc_day():
    late_evening_utc = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # already the 23rd in Shanghai

    assert rules.default_promised_reply_date(late_evening_utc, Policy(), SHANGHAI) == date(2026, 11, 26)


def test_the_reply_date_delay_comes_from_policy():
    policy = Policy(first_reply_after=timedelta(days=5))

    assert rules.default_promised_reply_date(NOW, policy, SHANGHAI) == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ()),
        ({"injury": True}, ("injury",)),
        ({"amount": Decimal("5000.01")}, ("large_amount",)),
        ({"amount": Decimal("5000")}, ()),
        ({"lawsuit": True, "media_exposure": True}, ("lawsuit", "media_exposure")),
        ({"people_count": 10}, ("collective",)),
        ({"people_count": 9}, ()),
    ],
)
def test_major_reasons_follow_process_md(changes, expected):
    assert rules.major_reasons(make(**changes), Policy()) == expected


def test_major_thresholds_come_from_policy():
    policy = Policy(major_amount=Decimal("100"), major_people_count=3)

    assert rules.major_reasons(make(amount=Decimal("150"), people_count=3), policy) == (
        "large_amount",
        "collective",
    )


@pytest.mark.parametrize(
    ("channel", "phone", "email", "expected"),
    [
        (Channel.EMAIL, "139", "a@b.cn", ReplyChannel.EMAIL),
        (Channel.LETTER, "139", None, ReplyChannel.LETTER),
        (Channel.PHONE, "139", None, ReplyChannel.PHONE),
        (Channel.SUGGESTION_BOX, None, "a@b.cn", ReplyChannel.EMAIL),
        (Channel.SUGGESTION_BOX, None, None, ReplyChannel.NONE),
    ],
)
def test_the_reply_goes_back_the_way_the_complaint_came(channel, phone, email, expected):
    assert contact_rules.default_reply_channel(channel, phone, email) == expected


@pytest.mark.parametrize("channel", [Channel.PHONE, Channel.ON_SITE, Channel.WEB])
def test_phone_on_site_and_web_complaints_need_a_phone(channel):
    errors = contact_rules.check_customer(make(channel=channel, customer=Customer(name="王女士")))

    assert "customer.phone" in errors


def test_a_letter_needs_no_phone_but_a_letter_reply_needs_an_address():
    letter = make(channel=Channel.LETTER, customer=Customer(name="王女士"))
    reply_by_letter = make(
        channel=Channel.LETTER,
        customer=Customer(name="王女士", preferred_reply_channel=ReplyChannel.LETTER),
    )

    assert contact_rules.check_customer(letter) == {}
    assert "customer.address" in contact_rules.check_customer(reply_by_letter)


def test_only_the_suggestion_box_takes_anonymous_complaints():
    anonymous = Customer(anonymous=True)

    assert contact_rules.check_customer(make(channel=Channel.SUGGESTION_BOX, customer=anonymous)) == {}
    assert "customer.anonymous" in contact_rules.check_customer(
        make(channel=Channel.LETTER, customer=anonymous)
    )


def test_fields_the_schema_refused_are_neither_judged_nor_relied_on():
    no_phone = make(customer=Customer(name="王女士"))
    price_nowhere = make(category=Category.PRICE)
    fee_nowhere = make(category=Category.FEE)
    check = rules.ReferenceCheck()

    assert rules.check_all(no_phone, check, NOW, SHANGHAI, frozenset({"customer.phone"})) == {}
    assert rules.check_all(no_phone, check, NOW, SHANGHAI, frozenset({"channel"})) == {}
    assert rules.check_all(price_nowhere, check, NOW, SHANGHAI, frozenset({"merchant_code"})) == {}
    assert rules.check_all(fee_nowhere, check, NOW, SHANGHAI, frozenset({"handle_directly"})) == {}
    assert "customer.phone" in rules.check_all(no_phone, check, NOW, SHANGHAI, frozenset({"floor"}))


def test_an_anonymous_note_recorded_with_a_name_or_phone_names_them_and_one_leaving_an_email_is_kept():
    box = Channel.SUGGESTION_BOX
    named = make(channel=box, customer=Customer(anonymous=True, name="王女士", phone="13912345678"))
    written = make(channel=box, customer=Customer(anonymous=True, email="guest@example.com"))
    check = rules.ReferenceCheck()

    assert set(rules.check_new(named, check, NOW, SHANGHAI)) == {"customer.name", "customer.phone"}
    assert rules.check_new(written, check, NOW, SHANGHAI) == {}  # the reply is written to it
    assert rules.check_all(named, check, NOW, SHANGHAI) == {}  # a correction may add the author's phone


def test_a_merchant_complaint_needs_a_place_and_a_department_complaint_a_department():
    price = make(category=Category.PRICE)
    fee = make(category=Category.FEE)
    settled_at_desk = make(category=Category.FEE, handle_directly=True)

    assert "floor" in rules.check_place(price, rules.ReferenceCheck())
    assert "department" in rules.check_place(fee, rules.ReferenceCheck())
    assert rules.check_place(settled_at_desk, rules.ReferenceCheck()) == {}


def test_a_customer_on_the_web_form_need_not_know_the_department():
    assert rules.check_place(make(channel=Channel.WEB, category=Category.FEE), rules.ReferenceCheck()) == {}


def test_a_merchant_on_another_floor_than_the_complaint_is_named():
    shop = Merchant(code="M-2F-001", shop_name="衣橱", floor="2F")
    check = rules.ReferenceCheck(merchant_floor="2F")

    errors = rules.check_place(make(floor="3F", merchant=shop), check)

    assert errors == {"merchant_code": ["merchant is on floor 2F, not 3F"]}


def test_dates_in_the_future_or_before_receipt_are_refused():
    future = make(occurred_at=NOW + timedelta(hours=1))
    early_promise = make(promised_reply_date=date(2026, 11, 21))

    assert "occurred_at" in rules.check_dates(future, NOW, SHANGHAI)
    assert "promised_reply_date" in rules.check_dates(early_promise, NOW, SHANGHAI)
    assert rules.check_dates(make(occurred_at=NOW - timedelta(days=1)), NOW, SHANGHAI) == {}

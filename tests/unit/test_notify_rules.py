"""Notify's pure decisions: quiet hours, backoff, the rate limit, who is reached on which channel,
contact details out of free text, the settings it reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import ConfigurationError
from services.common.settings import load_settings
from services.notify.adapters.channels.email import parse_smtp_url
from services.notify.adapters.channels.http import signature
from services.notify.adapters.reference import load_places
from services.notify.domain.model import Channel, ComplaintFacts, Contact, NotSent, Recipient, StaffMember
from services.notify.domain.privacy import mask_address, scrub, scrub_data
from services.notify.domain.recipients import customer_recipient, merchant_recipient, staff_recipients
from services.notify.domain.timing import QuietHours, RateLimit, RetryPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


# --- quiet hours


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 30), True),
        (time(3, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_across_midnight_hold_the_evening_and_the_night(local, quiet):
    assert QuietHours.parse("21:00-08:00").contains(local) is quiet


def test_a_message_in_the_quiet_hours_waits_until_they_end_the_next_morning_in_the_malls_time():
    hours = QuietHours.parse("21:00-08:00")

    assert hours.release(at(23, 30), SHANGHAI) == at(8, 0, day=23)
    assert hours.release(at(3, 15, day=23), SHANGHAI) == at(8, 0, day=23)
    assert hours.release(at(12, 0), SHANGHAI) == at(12, 0)
    assert hours.release(datetime(2026, 11, 22, 15, tzinfo=UTC), SHANGHAI) == at(8, 0, day=23)  # 23:00 local


def test_quiet_hours_within_one_day_and_none_at_all():
    lunch = QuietHours.parse("12:00-13:30")

    assert lunch.release(at(12, 10), SHANGHAI) == at(13, 30)
    assert not lunch.contains(time(13, 30))
    assert QuietHours.parse("").release(at(23, 0), SHANGHAI) == at(23, 0)


# --- backoff


def test_the_backoff_doubles_from_the_base_spreads_by_a_fifth_and_stops_at_the_cap():
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=10), max_attempts=8)

    delays = [policy.delay(attempt, "delivery-1").total_seconds() for attempt in range(1, 8)]

    for attempt, delay in enumerate(delays, start=1):
        nominal = min(30 * 2 ** (attempt - 1), 600)
        assert 0.8 * nominal <= delay <= min(1.2 * nominal, 600)
    assert delays[-1] <= 600
    assert policy.delay(3, "delivery-1") == policy.delay(3, "delivery-1")  # predictable per delivery
    assert policy.delay(3, "delivery-1") != policy.delay(3, "delivery-2")  # spread between deliveries


def test_the_backoff_gives_up_after_the_allowed_attempts():
    policy = RetryPolicy(max_attempts=3)

    assert [policy.gives_up_after(n) for n in (1, 2, 3)] == [False, False, True]


# --- rate limit


def test_the_rate_limit_lets_messages_through_until_the_window_is_full_then_says_when_room_is_made():
    limit = RateLimit(limit=3, window=timedelta(hours=1))
    now = at(12, 0)
    sent = [now - timedelta(minutes=50), now - timedelta(minutes=20), now - timedelta(minutes=5)]

    assert limit.next_free(now, sent[:2]) is None
    assert limit.next_free(now, sent) == now + timedelta(minutes=10)  # when the oldest leaves the window
    assert limit.next_free(now, [now - timedelta(minutes=70), *sent[1:]]) is None  # out of the window
    assert RateLimit(limit=0).next_free(now, sent * 10) is None  # 0: no limit


# --- who is reached


def complaint(**customer) -> ComplaintFacts:
    merchant = {
        "code": "M-3F-001",
        "shop_name": "优品服饰",
        "phone": "13800000001",
        "person_in_charge": "李经理",
    }
    return ComplaintFacts(
        id="c1",
        mall_id="demo",
        number="TS-20261122-0001",
        channel=customer.pop("channel", "phone"),
        customer=Contact(**customer),
        merchant=merchant,
        floor="3F",
        department="cleaning",
    )


def test_the_customer_is_told_on_the_channel_they_prefer_if_they_gave_its_address():
    both = {"name": "王女士", "phone": "13912345678", "email": "wang@example.com"}

    by_email = customer_recipient("acknowledgement", complaint(preferred_reply_channel="email", **both))
    by_sms = customer_recipient("acknowledgement", complaint(preferred_reply_channel="phone", **both))
    fallback = customer_recipient(
        "acknowledgement", complaint(preferred_reply_channel="email", phone="13912345678")
    )
    english = customer_recipient("reply", complaint(preferred_reply_channel="sms", language="en", **both))

    assert (by_email.channel, by_email.address) == (Channel.EMAIL, "wang@example.com")
    assert (by_sms.channel, by_sms.address) == (Channel.SMS, "13912345678")
    assert fallback.channel == Channel.SMS
    assert english.language == "en"


def test_a_customer_who_asked_not_to_be_contacted_gets_the_reply_and_nothing_else():
    opted_out = complaint(phone="13912345678", contact_opt_out=True)

    assert isinstance(customer_recipient("acknowledgement", opted_out), NotSent)
    assert isinstance(customer_recipient("callback_reminder", opted_out), NotSent)
    assert isinstance(customer_recipient("reply", opted_out), Recipient)
    assert isinstance(customer_recipient("written_reply", opted_out), Recipient)


def test_a_written_reply_to_a_letter_is_a_letter_and_other_messages_go_faster_when_they_can():
    letter = complaint(
        channel="letter",
        preferred_reply_channel="letter",
        name="王女士",
        address="上海市…",
        phone="13912345678",
    )

    assert customer_recipient("written_reply", letter).channel == Channel.LETTER
    assert customer_recipient("acknowledgement", letter).channel == Channel.SMS
    assert (
        customer_recipient("acknowledgement", complaint(channel="letter", address="上海市…")).channel
        == Channel.LETTER
    )


def test_an_anonymous_customer_is_not_told_and_only_a_missing_reply_is_reported():
    anonymous = complaint(channel="suggestion_box", anonymous=True, preferred_reply_channel="none")

    acknowledgement = customer_recipient("acknowledgement", anonymous)
    reply = customer_recipient("reply", anonymous)

    assert isinstance(acknowledgement, NotSent) and not acknowledgement.report
    assert isinstance(reply, NotSent) and reply.report and reply.reason == "no_contact"


def test_the_merchant_is_told_by_sms_at_the_shops_phone():
    found = merchant_recipient(complaint())

    assert (found.channel, found.address, found.name) == (Channel.SMS, "13800000001", "李经理")


STAFF = [
    StaffMember("floor3", "三楼", ("floor_supervisor",), floors=("3F",)),
    StaffMember("floor2", "二楼", ("floor_supervisor",), floors=("2F",)),
    StaffMember("cleaning", "保洁", ("department_manager",), departments=("cleaning",)),
    StaffMember("security", "保安", ("department_manager",), departments=("security",)),
    StaffMember("ops", "营运", ("operations_manager",)),
]


def test_a_staff_message_reaches_the_holders_of_the_queue_within_their_scope_and_the_departments_systems():
    hooks = {"operations_manager": "https://ops.example/hook", "cleaning": "https://cleaning.example/hook"}

    floor = staff_recipients("floor_supervisor", complaint(), STAFF, hooks)
    department = staff_recipients("department_manager", complaint(), STAFF, hooks)
    ops = staff_recipients("operations_manager", complaint(), STAFF, hooks)

    assert [(r.channel, r.address) for r in floor] == [(Channel.INBOX, "floor3")]
    assert [(r.channel, r.address) for r in department] == [
        (Channel.INBOX, "cleaning"),
        (Channel.WEBHOOK, "https://cleaning.example/hook"),
    ]
    assert [(r.channel, r.address) for r in ops] == [
        (Channel.INBOX, "ops"),
        (Channel.WEBHOOK, "https://ops.example/hook"),
    ]


def test_a_queue_nobody_holds_is_reported():
    nobody = staff_recipients("store_manager", complaint(), STAFF, {})

    assert isinstance(nobody, NotSent) and nobody.report and "store_manager" in nobody.detail


# --- privacy


def test_contact_details_are_taken_out_of_free_text_and_dates_and_numbers_stay():
    text = "请致电13912345678或发邮件 wang@example.com，座机 021-12345678；约定 2026-11-25，编号 TS-20261122-0001，退款399.00元"

    assert (
        scrub(text) == "请致电***或发邮件 ***，座机 ***；约定 2026-11-25，编号 TS-20261122-0001，退款399.00元"
    )
    assert scrub("王女士说…", "王女士") == "***说…"
    assert scrub_data({"reply_text": "已电话 139 1234 5678 联系", "n": 3}) == {
        "reply_text": "已电话 *** 联系",
        "n": 3,
    }


def test_addresses_are_masked_for_those_who_need_not_see_them():
    assert mask_address("sms", "13912345678") == "139****5678"
    assert mask_address("email", "wang@example.com") == "w***@example.com"
    assert mask_address("letter", "上海市浦东新区…") == "***"
    assert mask_address("inbox", "floor3") == "floor3"


# --- settings and adapters' parsing


def test_smtp_urls_say_tls_starttls_and_credentials():
    plain = parse_smtp_url("smtp://mailer:p%40ss@mail.example:2525?starttls=true")
    implicit = parse_smtp_url("smtps://mail.example")

    assert (plain.host, plain.port, plain.username, plain.password, plain.starttls) == (
        "mail.example",
        2525,
        "mailer",
        "p@ss",
        True,
    )
    assert (implicit.port, implicit.implicit_tls, implicit.starttls) == (465, True, False)
    with pytest.raises(ConfigurationError, match="SMTP_URL"):
        parse_smtp_url("http://mail.example")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NOTIFY_QUIET_HOURS": "late"}, "HH:MM-HH:MM"),
        ({"NOTIFY_WEBHOOKS": "ops=https://x"}, "NOTIFY_WEBHOOK_SECRET is required"),
        ({"NOTIFY_SMS_TEMPLATES": "acknowledgement"}, "not key=value"),
        ({"NOTIFY_WORKERS": "0"}, "at least 1"),
        ({"NOTIFY_ROBOTS": "ops=slack:https://x"}, "NOTIFY_ROBOTS.*wecom or wecom-text or dingtalk"),
        ({"NOTIFY_ROBOTS": "ops=wecom:x"}, "NOTIFY_ROBOTS"),
        ({"NOTIFY_ROBOT_SECRETS": "ops=SEC1"}, "NOTIFY_ROBOT_SECRETS names no robot of NOTIFY_ROBOTS: ops"),
        ({"NOTIFY_REFERENCE_FILE": "/nonexistent/mall.json"}, None),
    ],
)
def test_bad_notify_settings_are_refused_naming_the_variable(environ, message):
    with pytest.raises(ConfigurationError, match=message or "NOTIFY_REFERENCE_FILE"):
        load_places(load_settings(environ).notify.reference_file)


def test_a_staff_message_reaches_the_group_robots_of_its_queue_department_or_floor_by_key():
    robots = frozenset({"operations_manager", "cleaning", "3F"})

    department = staff_recipients("department_manager", complaint(), STAFF, {}, robots)
    floor = staff_recipients("floor_supervisor", complaint(), STAFF, {}, robots)
    nobody = staff_recipients(
        "floor_supervisor", replace(complaint(), floor="5F"), [], {}, robots, where="五层"
    )

    assert [(r.channel, r.address) for r in department] == [
        (Channel.INBOX, "cleaning"),
        (Channel.WEBHOOK, "robot:cleaning"),
    ]
    assert [(r.channel, r.address) for r in floor] == [
        (Channel.INBOX, "floor3"),
        (Channel.WEBHOOK, "robot:3F"),
    ]
    assert nobody.detail == "nobody holds floor_supervisor for 五层"


def test_notify_settings_are_read_from_the_environment():
    settings = load_settings(
        {
            "NOTIFY_SMS_TEMPLATES": "acknowledgement=SMS_1, *=SMS_0",
            "NOTIFY_QUIET_HOURS": "none",
            "NOTIFY_RECIPIENT_WINDOW_MINUTES": "30",
            "MALL_NAME": "银河商场",
        }
    )

    assert dict(settings.notify.sms_templates) == {"acknowledgement": "SMS_1", "*": "SMS_0"}
    assert settings.notify.quiet_hours == "" and settings.notify.recipient_window == timedelta(minutes=30)
    assert settings.mall_name == "银河商场"


def test_the_webhook_signature_is_hmac_sha256_over_the_timestamp_and_the_body():
    import hashlib
    import hmac

    expected = hmac.new(b"secret-0123456789", b"1700000000.{}", hashlib.sha256).hexdigest()

    assert signature("secret-0123456789", "1700000000", b"{}") == f"sha256={expected}"


def test_a_group_robots_message_keeps_to_its_documented_size_and_its_errcode_says_whether_to_try_again():
    from services.notify.adapters.channels import OutgoingMessage, PermanentFailure, TransientFailure
    from services.notify.adapters.channels.robots import Robot, _errcode, body

    long = OutgoingMessage(
        "d",
        "c",
        "demo",
        "TS-20261122-0001",
        "escalated",
        "staff",
        "webhook",
        "robot:ops",
        None,
        "zh-CN",
        "投诉 TS-20261122-0001 已升级",
        "请尽快处理。" * 1000,
        None,
        None,
        "",
    )

    text = body(Robot.configured("wecom-text", "https://qyapi.example/send?key=k"), long)["text"]["content"]
    markdown = body(Robot.configured("wecom", "https://qyapi.example/send?key=k"), long)["markdown"][
        "content"
    ]
    assert len(text.encode()) <= 2048 and len(markdown.encode()) <= 4096 and text.endswith("…")
    assert _errcode('200 {"errcode": 0, "errmsg": "ok"}') == "the group robot took the message"
    with pytest.raises(TransientFailure, match="45009"):
        _errcode('200 {"errcode": 45009, "errmsg": "api freq out of limit"}')
    with pytest.raises(PermanentFailure, match="310000"):
        _errcode('200 {"errcode": 310000, "errmsg": "sign not match"}')
    with pytest.raises(TransientFailure, match="without errcode"):
        _errcode("200 <html>")

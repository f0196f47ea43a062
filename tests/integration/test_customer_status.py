"""The customers' status page: a complaint's status by its number and the last four digits of the
customer's phone (or the e-mail), with no login; the same "not found" for a wrong number and a wrong
phone; limited per client address and slower after repeated misses (the clock moved, never slept)."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import TASK_CREATED
from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from tests.integration.conftest import complaint

ROUTING = Actor(id="routing", role="service")


@pytest.fixture
def recorded(client, desk) -> dict:
    body = complaint(customer={"name": "王女士", "phone": "13912345678", "email": "wang@example.com"})
    return client.post("/complaints", json=body, headers=desk).json


def look(client, number, contact, address="198.51.100.7", **extra):
    return client.post(
        "/public/status",
        json={"number": number, "contact": contact, **extra},
        environ_base={"REMOTE_ADDR": address},
    )


def apply(intake, recorded, event_type, at, payload=None):
    envelope = Envelope(
        type=event_type,
        mall_id=intake.settings.mall_id,
        actor=ROUTING,
        payload=payload or {},
        occurred_at=at,
        complaint_id=recorded["id"],
    )
    with intake.pool.connection() as conn:
        intake.bus.handle_event(conn, envelope)


def test_the_customer_sees_the_status_promised_date_and_next_step_in_chinese(client, recorded):
    answer = look(client, recorded["number"], "5678")

    assert answer.status_code == 200, answer.json
    assert answer.json == {
        "number": recorded["number"],
        "stage": "received",
        "status": "已受理",
        "next_step": "我们已收到您的投诉，正在安排专人处理。",
        "promised_reply_date": recorded["promised_reply_date"],
        "replied_on": None,
    }


def test_the_email_address_opens_it_too_in_any_case(client, recorded):
    assert look(client, recorded["number"].lower(), "Wang@Example.com").status_code == 200


def test_the_answer_holds_no_personal_data_and_no_staff(client, recorded):
    text = look(client, recorded["number"], "5678").get_data(as_text=True)

    for secret in ("王", "139", "5678", "wang@", "desk", "店员态度恶劣", "M-3F-001"):
        assert secret not in text, secret


def test_a_wrong_number_and_a_wrong_phone_get_the_same_answer(client, recorded):
    wrong_number = look(client, "TS-20261122-9999", "5678")
    wrong_phone = look(client, recorded["number"], "1234")

    assert wrong_number.status_code == wrong_phone.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "correlation_id"}  # noqa: E731
    assert strip(wrong_number.json) == strip(wrong_phone.json)
    assert "投诉编号" in wrong_number.json["message"]


def test_the_stage_follows_routing_events_and_an_agreed_new_date(client, recorded, intake, clock):
    now = clock.now()
    apply(
        intake,
        recorded,
        TASK_CREATED,
        now,
        {"task_id": "00000000-0000-4000-8000-000000000001", "queue": "floor_supervisor", "floor": "3F"},
    )
    handling = look(client, recorded["number"], "5678").json
    apply(
        intake,
        recorded,
        "complaint.postponed",
        now + timedelta(minutes=1),
        {"data": {"new_reply_date": "2026-12-20", "customer_agreed": True}},
    )
    postponed = look(client, recorded["number"], "5678").json
    apply(intake, recorded, "complaint.replied", now + timedelta(minutes=2))
    replied = look(client, recorded["number"], "5678").json
    apply(intake, recorded, "complaint.closed", now + timedelta(minutes=3))
    apply(intake, recorded, "complaint.replied", now + timedelta(minutes=2, seconds=30))  # late, older
    closed = look(client, recorded["number"], "5678").json

    assert (handling["stage"], handling["status"]) == ("handling", "处理中")
    assert postponed["promised_reply_date"] == "2026-12-20"
    assert (replied["stage"], replied["status"]) == ("replied", "已答复")
    assert (closed["stage"], closed["status"]) == ("closed", "已结案")


def test_repeated_misses_slow_the_address_down_and_time_lets_it_go(client, recorded, clock):
    misses = [look(client, recorded["number"], f"000{n}").status_code for n in range(5)]
    blocked = look(client, recorded["number"], "5678")
    other_address = look(client, recorded["number"], "5678", address="198.51.100.8").status_code
    clock.advance(timedelta(seconds=61))
    after_a_minute = look(client, recorded["number"], "5678").status_code
    another_miss = look(client, recorded["number"], "0000").status_code
    clock.advance(timedelta(seconds=61))
    doubled = look(client, recorded["number"], "5678").status_code
    clock.advance(timedelta(seconds=60))
    after_two_minutes = look(client, recorded["number"], "5678").status_code

    assert misses == [404] * 5
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "60"
    assert "稍后再试" in blocked.json["message"]
    assert other_address == 200
    assert (after_a_minute, another_miss, doubled, after_two_minutes) == (200, 404, 429, 200)


def test_the_wait_said_is_the_wait_left_whatever_the_wall_clock_reads(client, recorded, monkeypatch):
    """The rate limiter writes Retry-After again from the wall clock, truncating: with the wall clock
    a little later than when it first looked, 60 s left read 59. The page says the wait left."""
    ticks = itertools.count(math.floor(time.time()), 0.05)  # the wall clock moves on between its reads
    monkeypatch.setattr(time, "time", lambda: next(ticks))
    for n in range(5):
        look(client, recorded["number"], f"000{n}")
    blocked = look(client, recorded["number"], "5678")
    assert blocked.status_code == 429 and blocked.headers.get_all("Retry-After") == ["60"]


def test_waiting_out_the_longest_wait_does_not_start_the_count_again_but_a_quiet_day_does(
    client, recorded, clock
):
    def miss():
        return look(client, recorded["number"], "0000").status_code

    for _ in range(12):  # the waits grow 1, 2, 4 … 32 minutes, then an hour
        assert miss() == 404
        clock.advance(timedelta(hours=1, seconds=1))
    still_counted = [miss(), miss()]
    clock.advance(timedelta(days=1, seconds=1))
    after_a_day = [miss() for _ in range(5)]

    assert still_counted == [404, 429]  # one miss an hour at most
    assert after_a_day == [404, 404, 404, 404, 404]


def test_an_address_is_kept_no_longer_than_a_quiet_day(client, recorded, intake, clock):
    look(client, recorded["number"], "0000", address="198.51.100.20")
    clock.advance(timedelta(days=1, seconds=1))
    look(client, recorded["number"], "0000", address="198.51.100.21")

    with intake.pool.connection() as conn:
        kept = [row["client"] for row in conn.execute("SELECT client FROM intake.status_misses").fetchall()]
    assert kept == ["198.51.100.21"]


def test_lookups_are_rate_limited_per_client_address(settings, clock, recorded_number="TS-20261122-0001"):
    runtime = bootstrap(replace(settings, status_rate_limit="2 per minute"), clock=clock)
    runtime.pool.open(wait=True)
    try:
        client = create_app(runtime).test_client()
        codes = [look(client, recorded_number, "5678").status_code for _ in range(3)]
        page = client.post(
            "/status",
            data={"number": recorded_number, "contact": "5678"},
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).status_code
        elsewhere = look(client, recorded_number, "5678", address="198.51.100.9").status_code
    finally:
        runtime.pool.close()

    assert codes == [404, 404, 429]
    assert page == 429  # the page and the JSON share one count
    assert elsewhere == 404


def test_bad_input_names_the_field(client):
    answer = client.post("/public/status", json={"number": "TS-1"})

    assert answer.status_code == 400
    assert "contact" in answer.json["errors"]["json"]


def test_the_page_opens_from_the_receipts_link_and_answers_in_chinese(client, recorded):
    opened = client.get(f"/status?number={recorded['number']}").get_data(as_text=True)
    answered = client.post("/status", data={"number": recorded["number"], "contact": "5678"})
    missed = client.post("/status", data={"number": recorded["number"], "contact": "1111"})

    assert f'value="{recorded["number"]}"' in opened and "手机号码后四位" in opened
    assert 'name="viewport"' in opened
    assert answered.status_code == 200
    page = answered.get_data(as_text=True)
    assert "已受理" in page and "正在安排专人处理" in page and "王" not in page
    assert missed.status_code == 404 and "没有找到这条投诉" in missed.get_data(as_text=True)


def test_the_page_names_the_promised_date_as_promised_and_after_the_reply_the_day_it_was_given(
    client, recorded, intake, clock
):
    form = {"number": recorded["number"], "contact": "5678"}
    before = client.post("/status", data=form).get_data(as_text=True)
    apply(intake, recorded, "complaint.replied", clock.now() + timedelta(hours=1))
    after = client.post("/status", data=form).get_data(as_text=True)
    answered = look(client, recorded["number"], "5678").json

    promised = recorded["promised_reply_date"]
    assert "<dt>约定答复日期</dt>" in before and 'id="status-promised"' in before
    assert "<dt>答复日期</dt>" not in before
    assert (
        answered["replied_on"]
        == (clock.now() + timedelta(hours=1)).astimezone(intake.settings.zone).date().isoformat()
    )
    assert answered["replied_on"] != promised and answered["promised_reply_date"] == promised
    assert "<dt>答复日期</dt>" in after and 'id="status-replied"' in after and "约定答复日期" not in after


def test_a_case_closed_with_no_reply_keeps_the_promised_date_labelled_as_promised(
    client, recorded, intake, clock
):
    apply(intake, recorded, "complaint.closed", clock.now() + timedelta(hours=1))
    page = client.post("/status", data={"number": recorded["number"], "contact": "5678"}).get_data(
        as_text=True
    )

    assert "<dt>约定答复日期</dt>" in page and "<dt>答复日期</dt>" not in page

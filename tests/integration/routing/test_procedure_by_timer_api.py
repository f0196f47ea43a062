"""PROCESS.md's paths that wait on time, driven through the public APIs only: complaints POSTed to
intake, tasks completed through the task API, and time passed by firing timers through the timer
API (no clock moved, no policy shortened)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from tests.support.mall import CLOSE, DEPARTMENT, DESK, FLOOR, OPS, STORE, mall_diagram
from tests.support.waiting import eventually

ANONYMOUS_NOTE = {
    "channel": "suggestion_box",
    "category": "environment",
    "department": "cleaning",
    "description": "二楼洗手间很脏，没有纸巾",
    "customer": {"anonymous": True},
    "customer_request": None,
    "amount": None,
    "floor": "2F",
}


def test_an_anonymous_suggestion_box_note_closes_after_resolution_with_no_reply_and_no_callback(mall):
    case = mall.complain(**ANONYMOUS_NOTE)
    case.complete("handle_department", DEPARTMENT, outcome="resolved", resolution="已加派保洁，每小时巡查")
    assert case.open_tasks(DESK) == ["close"]
    case.complete("close", DESK, outcome="已整改", cost=0, responsible_party="mall", root_cause="environment")

    assert case.created() == ["handle_department", "close"]  # no reply, no callback
    assert "complaint.replied" not in case.events()
    assert not [
        kind for kind, to in case.notifications() if kind in ("reply", "written_reply", "callback_reminder")
    ]
    assert "no_contact" in case.view()["visited"]
    assert "complaint.no_contact" in case.events()  # on the timeline
    [closed] = case.announced("complaint.closed")
    assert closed["closed_as"] == "no_contact"
    assert case.status() == "completed"


def test_an_anonymous_note_that_leaves_an_email_gets_a_written_reply_there(mall):
    case = mall.complain(**{**ANONYMOUS_NOTE, "customer": {"anonymous": True, "email": "guest@example.com"}})
    case.complete("handle_department", DEPARTMENT, outcome="resolved", resolution="已加派保洁")

    assert case.open_tasks(DESK) == ["reply_written"]
    case.complete("reply_written", DESK, reply_text="感谢您的意见，已加派保洁")
    assert ("written_reply", "customer") in case.notifications()


def test_three_unanswered_callbacks_close_the_case_as_no_answer(mall, policy):
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已道歉")
    case.complete("reply", DESK, reply_text="已处理")
    case.fire("wait_callback", reason="顾客说明天出差，提前回访")
    for attempt in range(policy.callback_attempts):
        if attempt:
            retry = case.timer("retry_wait")
            assert retry["due_at"] > case.timeline()[-1]["at"]  # the policy's wait, not yet passed
            case.fire("retry_wait", reason="顾客约定的时间到了")
        case.complete("callback", DESK, reached=False, callback_note="无人接听")
    case.complete("close", DESK, **CLOSE)

    assert case.created() == ["handle_desk", "reply", "callback", "callback", "callback", "close"]
    [closed] = case.announced("complaint.closed")
    assert (closed["closed_as"], closed["callback_attempts_made"]) == ("no_answer", 3)
    fired = [entry["element_id"] for entry in case.timeline() if entry["kind"] == "timer_fired"]
    assert fired == ["wait_callback", "retry_wait", "retry_wait"]


def test_the_wait_between_callback_attempts_is_the_policys(mall, policy):
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已处理，顾客认可")
    case.complete("reply", DESK, reply_text="已处理")
    case.fire("wait_callback")
    answered = case.complete("callback", DESK, reached=False)

    retry = case.timer("retry_wait")
    assert retry["due_at"] == _plus(answered["closed_at"], policy.callback_retry_after.total_seconds())


def test_after_two_postponements_the_store_manager_takes_it_with_the_reasons_and_the_customers_words_on_the_timeline(
    mall,
):
    case = mall.complain()
    case.fire("handle_floor_reply_due", reason="演示：到约定反馈时间")
    case.complete(
        "agree_reply_date",
        DESK,
        progress_told="商户仍在核实",
        customer_agreed=True,
        new_reply_date="2026-11-28",
        postpone_reason="商户负责人出差",
    )
    case.fire("handle_floor_reply_due", reason="演示：到约定反馈时间")
    case.complete(
        "agree_reply_date",
        DESK,
        progress_told="仍在处理",
        customer_agreed=True,
        new_reply_date="2026-12-01",
        postpone_reason="等待厂家检测报告",
    )
    case.fire("handle_floor_reply_due", reason="演示：到约定反馈时间")
    assert case.open_tasks(DESK) == ["tell_store_manager_takes"]  # no third date to agree
    case.complete(
        "tell_store_manager_takes",
        DESK,
        progress_told="检测报告仍未出，已转店总处理",
        customer_words="要求店总出面",
    )

    assert case.open_tasks(STORE) == ["handle_store"] and case.open_tasks(FLOOR) == []
    said = [
        entry["detail"]["data"].get("postpone_reason") or entry["detail"]["data"]["customer_words"]
        for entry in case.timeline()
        if entry["kind"] == "task_completed"
        and entry["element_id"] in ("agree_reply_date", "tell_store_manager_takes")
    ]
    assert said == ["商户负责人出差", "等待厂家检测报告", "要求店总出面"]
    assert ("reply_dates_exhausted", "store_manager") in case.notifications()


def test_a_postponement_without_its_reason_is_refused_naming_the_field(mall):
    case = mall.complain()
    case.fire("handle_floor_reply_due")
    answer = case.try_complete(
        "agree_reply_date",
        DESK,
        progress_told="商户仍在核实",
        customer_agreed=True,
        new_reply_date="2026-11-28",
        postpone_reason="  ",
    )

    assert answer.status_code == 400
    assert answer.json["errors"]["json"] == {"postpone_reason": ["required when customer_agreed is true"]}
    assert case.open_tasks(DESK) == ["agree_reply_date"]


def test_the_merchant_call_timer_fired_twice_alerts_the_operations_manager_once(mall):
    case = mall.complain(merchant_code="M-3F-001")
    case.fire("merchant_call_overdue", reason="商户电话无人接听")
    again = case.timers()

    assert "merchant_call_overdue" not in [timer["element_id"] for timer in again]
    assert case.notifications().count(("overdue", "operations_manager")) == 1
    assert case.open_tasks(OPS) == [] and case.open_tasks(DESK) == ["merchant_call"]


def _plus(moment: str, seconds: float) -> str:
    return (datetime.fromisoformat(moment) + timedelta(seconds=seconds)).isoformat()


class TestAMallInLondon:
    @pytest.fixture
    def settings(self, settings):
        return replace(settings, mall_time_zone="Europe/London")

    def test_the_reply_deadline_is_the_end_of_the_promised_day_in_london(self, mall):
        case = mall.complain(promised_reply_date="2026-11-24")

        due = case.timer("handle_floor_reply_due")["due_at"]
        assert due == "2026-11-24T23:59:59+00:00"  # London keeps GMT in November
        reminder = case.timer("handle_floor_reminder")["due_at"]
        assert reminder == "2026-11-23T23:59:59+00:00"

    def test_a_date_promised_for_today_is_not_overdue_at_intake(self, mall):
        case = mall.complain(promised_reply_date="2026-11-22")  # intake at 02:00 London time

        assert case.open_tasks(FLOOR) == ["handle_floor"] and case.open_tasks(DESK) == []
        assert case.timer("handle_floor_reply_due")["due_at"] == "2026-11-22T23:59:59+00:00"


def _correct(mall, case, **body):
    return mall.intake_api.patch(f"/complaints/{case.id}", json=body, headers=mall.headers(DESK))


def test_the_desk_corrects_the_promised_reply_date_on_the_day_of_intake_and_the_deadlines_follow(mall):
    case = mall.complain()  # promised 2026-11-25, three days after intake
    answer = _correct(mall, case, promised_reply_date="2026-11-27", reason="受理时日期填错，顾客要求周五答复")

    assert answer.status_code == 200, answer.json
    assert answer.json["promised_reply_date"] == "2026-11-27"
    eventually(
        lambda: case.timer("handle_floor_reply_due")["due_at"] == "2026-11-27T15:59:59+00:00", timeout=30
    )
    assert case.timer("handle_floor_reminder")["due_at"] == "2026-11-26T15:59:59+00:00"
    assert case.timer("handle_floor_timeout")["due_at"] == "2026-11-23T02:00:00+00:00"  # a duration: unmoved
    [corrected] = [entry for entry in case.timeline() if entry["kind"] == "complaint_corrected"]
    assert (corrected["actor"], corrected["role"]) == ("service_desk-1", "service_desk")
    assert corrected["detail"]["promised_reply_date"] == {"old": "2026-11-25", "new": "2026-11-27"}
    assert corrected["detail"]["reason"] == "受理时日期填错，顾客要求周五答复"
    assert case.open_tasks(FLOOR) == ["handle_floor"] and case.created() == ["handle_floor"]  # the same task


def test_a_later_change_of_the_reply_date_is_refused_as_a_correction(mall):
    case = mall.complain()
    mall.clock.advance(timedelta(days=1))  # the next day in the mall
    answer = _correct(mall, case, promised_reply_date="2026-11-27", reason="顾客改期")

    assert answer.status_code == 400
    assert list(answer.json["errors"]["json"]) == ["promised_reply_date"]
    assert "postponement" in answer.json["errors"]["json"]["promised_reply_date"][0]
    assert case.timer("handle_floor_reply_due")["due_at"] == "2026-11-25T15:59:59+00:00"


@pytest.fixture
def cycle_mall(mall):
    """The shipped diagram with its merchant-call reminder written as Camunda Modeler writes a cycle."""
    body = mall_diagram()
    overdue = '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">merchant_call_due</bpmn:timeDate>'
    assert body["bpmn"].count(overdue) == 1
    body["bpmn"] = body["bpmn"].replace(
        overdue, '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R3/PT1H</bpmn:timeCycle>'
    )
    mall.deploy(body)
    return mall


def test_a_cycle_timer_fires_as_often_as_it_says_an_interval_apart(cycle_mall):
    case = cycle_mall.complain(merchant_code="M-3F-001")
    told = []
    for _ in range(4):
        case.wait(hours=1, seconds=1)
        told.append(case.notifications().count(("overdue", "operations_manager")))

    assert told == [1, 2, 3, 3]
    assert case.open_tasks(DESK) == ["merchant_call"]  # the reminder does not end the call

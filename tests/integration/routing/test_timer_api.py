"""The timer API: an operator lists a case's pending timers, fires one now or moves its due time.

Every case here is driven through the public APIs only, and time passes only through this API:
no clock is moved and no policy shortened.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from services.routing.app import create_app
from services.routing.bootstrap import bootstrap
from services.routing.service_layer import timers as timer_service
from tests.support.mall import DESIGNER, DESK, FLOOR, OPS, STORE

SHOP = "M-3F-001"
ADMIN = ("admin", {})


def test_a_case_lists_its_pending_timers_with_element_name_and_due_time(mall):
    case = mall.complain(merchant_code=SHOP)

    timers = {timer["element_id"]: timer for timer in case.timers()}

    assert {"merchant_call_overdue", "handle_floor_timeout", "handle_floor_reply_due"} <= set(timers)
    overdue = timers["merchant_call_overdue"]
    assert overdue["due_at"] == "2026-11-23T02:00:00+00:00"  # 24 h after intake
    assert (overdue["attached_to"], overdue["interrupting"]) == ("merchant_call", False)
    assert timers["handle_floor_timeout"]["interrupting"] is True
    # named in every language of the diagram, as a task's titles are: a department's system shows Chinese
    assert timers["handle_floor_timeout"]["names"]["zh-CN"] == "楼层主管：超时未处理"
    assert timers["handle_floor_timeout"]["names"][""] == timers["handle_floor_timeout"]["name"]
    dues = [timer["due_at"] for timer in case.timers()]
    assert dues == sorted(dues)


def test_timers_are_listed_and_fired_as_the_last_step_saved_them_without_restoring_the_workflow(
    mall, monkeypatch
):
    case = mall.complain(merchant_code=SHOP)
    restored = []
    restore = timer_service._workflow
    monkeypatch.setattr(timer_service, "_workflow", lambda *args: restored.append(args) or restore(*args))

    listed = case.timers()
    answer = case.fire("handle_floor_timeout", who=STORE, reason="楼管休假")
    after = case.timers()

    assert restored == []  # the step that fired it restored the case in its own process
    assert answer["timer"] == next(timer for timer in listed if timer["element_id"] == "handle_floor_timeout")
    with mall.routing.uow() as uow:  # what the step saved is what the workflow itself says
        row = uow.cases.get("demo", case.id)
        from_workflow = mall.routing.context.engine.pending_timers(
            timer_service._workflow(uow, mall.routing.context, row)
        )
    assert row.pending_timers == from_workflow
    assert [timer["id"] for timer in after] == [timer.id for timer in from_workflow]
    assert "handle_floor_timeout" not in {timer["element_id"] for timer in after}


def test_a_case_saved_before_timers_were_saved_with_it_lists_and_fires_them_from_its_workflow(mall):
    case = mall.complain(merchant_code=SHOP)
    listed = case.timers()
    with mall.routing.uow() as uow:
        uow.conn.execute("UPDATE routing.cases SET pending_timers = NULL")

    assert case.timers() == listed
    assert case.fire("handle_floor_timeout", who=STORE, reason="楼管休假")["fired"] is True
    gone = next(timer for timer in listed if timer["element_id"] == "handle_floor_timeout")
    again = mall.api.post(
        f"/cases/{case.id}/timers/{gone['id']}/fire", json={"reason": "再次触发"}, headers=mall.headers(OPS)
    )
    assert again.status_code in (404, 409)  # it fired (compacted away, or kept as done): not again
    assert case.events().count("complaint.escalated") == 1


def test_firing_the_merchant_call_timer_twice_at_once_alerts_the_operations_manager_once(mall):
    case = mall.complain(merchant_code=SHOP)
    timer = case.timer("merchant_call_overdue")

    def fire():
        return mall.api.post(
            f"/cases/{case.id}/timers/{timer['id']}/fire",
            json={"reason": "商户未接电话，提前上报"},
            headers=mall.headers(OPS),
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(lambda _: fire(), range(2)))

    assert codes[0] == 200 and codes[1] in (404, 409)
    assert case.notifications().count(("overdue", "operations_manager")) == 1
    assert case.open_tasks(DESK) == ["merchant_call"]  # the call stays to be made
    [fired] = [entry for entry in case.timeline() if entry["kind"] == "timer_fired"]
    assert (fired["actor"], fired["role"], fired["element_id"]) == (
        "operations_manager-1",
        "operations_manager",
        "merchant_call_overdue",
    )
    assert fired["detail"]["reason"] == "商户未接电话，提前上报"


def test_firing_the_handlers_timer_escalates_as_a_due_timer_does(mall):
    case = mall.complain()
    answer = case.fire("handle_floor_timeout", who=STORE, reason="楼管休假")

    assert answer["fired"] is True and answer["timer"]["element_id"] == "handle_floor_timeout"
    assert case.open_tasks(OPS) == ["handle_ops"] and case.open_tasks(FLOOR) == []
    assert case.events().count("complaint.escalated") == 1
    assert ("escalated", "operations_manager") in case.notifications()


def test_a_timer_moved_falls_due_then_and_the_task_shows_the_new_due_time(mall):
    case = mall.complain()
    timer = case.timer("handle_floor_timeout")
    answer = mall.api.patch(
        f"/cases/{case.id}/timers/{timer['id']}",
        json={"due_at": "2026-11-22T18:00:00", "reason": "顾客情绪激动，缩短处理时限"},
        headers=mall.headers(ADMIN),
    )

    assert answer.status_code == 200, answer.json
    assert answer.json["fired"] is False
    assert case.timer("handle_floor_timeout")["due_at"] == "2026-11-22T10:00:00+00:00"  # 18:00 in the mall
    [task] = case.tasks(FLOOR)
    assert task["due_at"] == "2026-11-22T10:00:00+00:00"  # its soonest timer
    [moved] = [entry for entry in case.timeline() if entry["kind"] == "timer_moved"]
    assert moved["detail"]["due_before"] == "2026-11-23T02:00:00+00:00"
    assert moved["detail"]["reason"] == "顾客情绪激动，缩短处理时限"
    assert case.view()["next_due_at"] == "2026-11-22T10:00:00+00:00"


def test_a_due_time_in_the_past_fires_the_timer_now(mall):
    case = mall.complain()
    timer = case.timer("handle_floor_timeout")
    answer = mall.api.patch(
        f"/cases/{case.id}/timers/{timer['id']}",
        json={"due_at": "2020-01-01T00:00:00+08:00", "reason": "立即上报"},
        headers=mall.headers(OPS),
    )

    assert answer.status_code == 200 and answer.json["fired"] is True
    assert case.open_tasks(OPS) == ["handle_ops"]


@pytest.mark.parametrize("who", [DESK, FLOOR, DESIGNER], ids=["desk", "floor supervisor", "designer"])
def test_the_desk_a_floor_supervisor_and_a_designer_may_not_fire_or_move_a_timer(mall, who):
    case = mall.complain()
    timer = case.timer("handle_floor_timeout")

    fired = mall.api.post(
        f"/cases/{case.id}/timers/{timer['id']}/fire", json={"reason": "试试"}, headers=mall.headers(who)
    )
    moved = mall.api.patch(
        f"/cases/{case.id}/timers/{timer['id']}",
        json={"due_at": "2026-11-30T00:00:00Z", "reason": "试试"},
        headers=mall.headers(who),
    )

    assert (fired.status_code, moved.status_code) == (403, 403)
    assert fired.json["status"] == "Forbidden"
    assert case.timer("handle_floor_timeout")["due_at"] == timer["due_at"]


def test_a_timer_of_another_mall_is_not_found(mall, settings, clock):
    """Two malls of a group on one database: the other mall's routing does not find this mall's case."""
    case = mall.complain()
    timer = case.timer("handle_floor_timeout")
    east = bootstrap(replace(settings, mall_id="east"), clock=clock)
    east.pool.open(wait=True)
    try:
        api = create_app(east).test_client()
        headers = mall.bearer(mall.tokens, "operations_manager", subject="ops-east", mall="east")
        fired = api.post(
            f"/cases/{case.id}/timers/{timer['id']}/fire", json={"reason": "试试"}, headers=headers
        )
        listed = api.get(f"/cases/{case.id}/timers", headers=headers)
    finally:
        east.pool.close()

    assert (fired.status_code, listed.status_code) == (404, 404)
    assert fired.json["status"] == "Not Found"
    assert case.timer("handle_floor_timeout")["due_at"] == timer["due_at"]


def test_an_unknown_timer_is_not_found(mall):
    case = mall.complain()
    answer = mall.api.post(
        f"/cases/{case.id}/timers/00000000-0000-4000-8000-000000000000/fire",
        json={"reason": "试试"},
        headers=mall.headers(OPS),
    )
    assert answer.status_code == 404 and "no pending timer" in answer.json["message"]


def test_a_finished_case_has_no_timers_and_refuses_to_fire_one(mall):
    case = mall.complain(category="environment", handle_directly=True)
    timer = case.timer("handle_desk_timeout")
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已道歉")
    case.complete("reply", DESK, reply_text="已处理")
    case.fire("wait_callback")
    case.complete("callback", DESK, reached=True, satisfied=True)
    case.complete("close", DESK, outcome="已解决", cost=0, responsible_party="mall", root_cause="environment")
    assert case.status() == "completed"

    answer = mall.api.post(
        f"/cases/{case.id}/timers/{timer['id']}/fire", json={"reason": "试试"}, headers=mall.headers(OPS)
    )

    assert case.timers() == []
    assert answer.status_code == 409 and answer.json["status"] == "Conflict"


def test_an_operator_reading_chinese_is_told_in_chinese_why_a_timer_cannot_fire(mall):
    case = mall.complain(merchant_code=SHOP)
    timer = case.timer("merchant_call_overdue")
    chinese = {**mall.headers(OPS), "Accept-Language": "zh-CN"}

    def fire(timer_id: str):
        return mall.api.post(
            f"/cases/{case.id}/timers/{timer_id}/fire", json={"reason": "提前上报"}, headers=chinese
        )

    assert fire(timer["id"]).status_code == 200
    again, unknown = fire(timer["id"]), fire("00000000-0000-4000-8000-000000000000")

    assert (again.status_code, again.json["message"]) == (409, "该定时器已触发，或其所属任务已结束")
    assert unknown.status_code == 404
    assert unknown.json["message"] == f"案件 {case.number} 没有这个待触发的定时器"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_at": "next tuesday", "reason": "改期"}, "due_at"),
        ({"due_at": "2026-11-31T10:00:00", "reason": "改期"}, "due_at"),
        ({"reason": "改期"}, "due_at"),
        ({"due_at": "2026-11-30T10:00:00+08:00", "reason": "   "}, "reason"),
        ({"due_at": "2026-11-30T10:00:00+08:00", "reason": ""}, "reason"),
        ({"due_at": "2026-11-30T10:00:00+08:00"}, "reason"),
        ({"due_at": "9999-12-31T23:59:59", "reason": "改期"}, "due_at"),
    ],
    ids=["words", "no such day", "no due time", "blank reason", "empty reason", "no reason", "past a year"],
)
def test_a_malformed_due_time_or_an_empty_reason_is_a_400_naming_the_field(mall, body, field):
    case = mall.complain()
    timer = case.timer("handle_floor_timeout")

    answer = mall.api.patch(f"/cases/{case.id}/timers/{timer['id']}", json=body, headers=mall.headers(OPS))
    fired = mall.api.post(
        f"/cases/{case.id}/timers/{timer['id']}/fire", json={"reason": " "}, headers=mall.headers(OPS)
    )

    assert answer.status_code == 400 and list(answer.json["errors"]["json"]) == [field]
    assert fired.status_code == 400 and list(fired.json["errors"]["json"]) == ["reason"]
    assert case.timer("handle_floor_timeout")["due_at"] == timer["due_at"]
    assert not [entry for entry in case.timeline() if entry["kind"].startswith("timer_")]

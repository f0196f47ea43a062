"""Every path of bpmn/complaint.bpmn, driven only through the public APIs.

Each case starts as a complaint POSTed to intake; intake's outbox relay publishes complaint.received
on the (in-memory) broker, routing's consumer starts the case; then staff act through the task API
and time passes by moving the clock. Each test asserts the exact tasks created, in order, the events
announced and how the case ended (see tests/support/mall.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.bus.topology import NOTICE_TO_DEPARTMENT
from services.common.settings import Policy
from tests.support.mall import (
    CLOSE,
    DEPARTMENT,
    DEPUTY,
    DESK,
    FLOOR,
    OPS,
    STORE,
    mall_diagram,
    reply_and_call_back,
    seconds,
    settle_price_complaint_on_the_floor,
)

SHOP = "M-3F-001"  # 型男工坊 on 3F
SLOW_HANDLERS = Policy(handler_acts_within=timedelta(days=30))  # the reply date comes first


def test_the_desk_settles_it_directly_and_the_satisfied_customer_closes_it(mall, policy):
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已道歉并赠送停车券")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    assert case.created() == ["handle_desk", "reply", "callback", "close"]
    assert case.events() == [
        "complaint.acknowledged",
        "complaint.triaged",
        "complaint.resolved",
        "complaint.replied",
        "complaint.called_back",
        "complaint.closed",
    ]
    assert case.status() == "completed"
    [closed] = case.announced("complaint.closed")
    assert (closed["closed_as"], closed["last_resolver"], closed["responsible_party"]) == (
        "resolved",
        "service_desk",
        "merchant",
    )


def test_a_merchant_price_complaint_is_resolved_on_the_floor_signed_off_tracked_and_closed(mall, policy):
    case = mall.complain(category="price", merchant_code=SHOP)
    assert case.open_tasks(FLOOR) == ["handle_floor"] and case.open_tasks(DESK) == ["merchant_call"]

    settle_price_complaint_on_the_floor(case, policy)
    assert ("overdue", "operations_manager") not in case.notifications()


def test_a_merchant_not_called_in_time_tells_the_operations_manager_and_the_call_stays_open(mall, policy):
    case = mall.complain(merchant_code=SHOP)
    case.complete("handle_floor", FLOOR, outcome="resolved", resolution="已处理，顾客认可")
    case.wait(seconds=seconds(policy, "merchant_call_within") + 1)

    assert ("overdue", "operations_manager") in case.notifications()
    assert case.open_tasks(DESK) == ["merchant_call"]
    assert case.open_tasks(OPS) == ["signoff_ops"]
    case.wait(seconds=seconds(policy, "merchant_call_within") + 1)
    assert case.notifications().count(("overdue", "operations_manager")) == 1  # told once
    created = case.created()
    assert sorted(created[:2]) == ["handle_floor", "merchant_call"] and created[2:] == ["signoff_ops"]


def test_a_sign_off_not_given_in_time_tells_the_store_manager_and_stays_the_operations_managers(mall, policy):
    case = mall.complain(merchant_code=SHOP)
    case.complete("handle_floor", FLOOR, outcome="resolved", resolution="已处理，顾客认可")
    signoff = case.task("signoff_ops", OPS)
    created = datetime.fromisoformat(signoff["created_at"])
    assert datetime.fromisoformat(signoff["due_at"]) == created + timedelta(
        seconds=seconds(policy, "handler_acts_within")
    )
    assert ("signoff_late", "store_manager") not in case.notifications()
    case.wait(seconds=seconds(policy, "handler_acts_within") + 1)

    assert ("signoff_late", "store_manager") in case.notifications()
    assert case.open_tasks(OPS) == ["signoff_ops"]  # still to be signed, now late
    case.complete("signoff_ops", OPS, signed_off=True)
    assert case.open_tasks(OPS) == []


def test_a_merchant_not_reached_keeps_the_call_open_until_its_deadline_from_intake(mall, policy):
    """PROCESS step 3: 否 (nobody answered) is an attempt, not the call: the task comes back, due 24 h
    after intake as before, and the operations manager is told when that passes."""
    case = mall.complain(merchant_code=SHOP)
    first = case.task("merchant_call", DESK)
    unsigned = case.try_complete("merchant_call", DESK, called=True)
    case.complete("merchant_call", DESK, called=False, call_note="无人接听")

    again = case.task("merchant_call", DESK)
    assert unsigned.json["errors"]["json"] == {
        "merchant_signed_by": ["required when called is true"],
        "signed_at": ["required when called is true"],
    }
    assert again["id"] != first["id"] and again["due_at"] == first["due_at"]
    case.wait(seconds=seconds(policy, "merchant_call_within") + 1)
    assert ("overdue", "operations_manager") in case.notifications()
    later = case.try_complete(
        "merchant_call", DESK, called=True, merchant_signed_by="何勇", signed_at="2026-12-01"
    )
    assert later.json["errors"]["json"] == {"signed_at": ["must be today or earlier"]}
    case.complete("merchant_call", DESK, called=True, merchant_signed_by="何勇", signed_at="2026-11-23")
    assert case.created().count("merchant_call") == 2 and case.open_tasks(DESK) == []


def test_a_resolution_says_what_was_done_a_new_reply_date_is_not_past_and_a_cost_not_negative(mall, policy):
    case = mall.complain(category="environment", handle_directly=True)
    bare = case.try_complete("handle_desk", DESK, outcome="resolved")
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已道歉并赠送停车券")
    case.complete("reply", DESK, reply_text="已处理")
    case.wait(seconds=seconds(policy, "callback_from"))
    case.complete("callback", DESK, reached=True, satisfied=True)
    negative = case.try_complete("close", DESK, **{**CLOSE, "cost": -5})

    assert bare.json["errors"]["json"] == {"resolution": ["required when outcome is resolved"]}
    assert negative.json["errors"]["json"] == {"cost": ["must be at least 0"]}


@pytest.mark.parametrize("policy", [SLOW_HANDLERS], ids=["handlers given a month"])
def test_a_new_reply_date_in_the_past_is_refused(mall):
    case = mall.complain()  # promised reply date: 2026-11-25
    case.wait(days=3, hours=14)
    past = case.try_complete(
        "agree_reply_date",
        DESK,
        progress_told="商户仍在核实",
        customer_agreed=True,
        new_reply_date="2026-11-20",
        postpone_reason="商户负责人出差",
    )

    assert past.status_code == 400 and past.json["errors"]["json"] == {
        "new_reply_date": ["must be today or later"]
    }
    assert case.open_tasks(DESK) == ["agree_reply_date"]


def test_a_quality_complaint_goes_to_the_operations_manager_at_once(mall, policy):
    case = mall.complain(category="quality", merchant_code=SHOP)
    case.complete("handle_ops", OPS, outcome="resolved", resolution="下架并退款")
    case.complete("merchant_call", DESK, called=True, merchant_signed_by="何勇", signed_at="2026-11-22")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    created = case.created()
    assert sorted(created[:2]) == ["handle_ops", "merchant_call"]
    assert created[2:] == ["reply", "callback", "close"]
    assert case.status() == "completed"


def test_a_silent_floor_supervisor_is_escalated_to_operations_then_to_the_store_manager(mall, policy):
    case = mall.complain()
    case.wait(seconds=seconds(policy, "handler_acts_within") + 1)
    assert case.open_tasks(OPS) == ["handle_ops"] and case.open_tasks(FLOOR) == []
    case.wait(seconds=seconds(policy, "handler_acts_within") + 1)
    case.complete("handle_store", STORE, outcome="resolved", resolution="店总亲自致歉")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    assert case.created() == ["handle_floor", "handle_ops", "handle_store", "reply", "callback", "close"]
    assert case.events().count("complaint.escalated") == 2
    assert [to for kind, to in case.notifications() if kind == "escalated"] == [
        "operations_manager",
        "store_manager",
    ]
    assert case.status() == "completed"


def test_a_complaint_about_a_department_manager_goes_to_the_deputy_store_manager(mall, policy):
    case = mall.complain(category="staff_service", department="cleaning", about_department_manager=True)
    case.complete("handle_deputy", DEPUTY, outcome="resolved", resolution="已约谈部门经理")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    assert case.created() == ["handle_deputy", "reply", "callback", "close"]
    assert case.status() == "completed"


def test_a_department_matter_goes_to_its_manager_and_escalates_to_the_deputy(mall, policy):
    case = mall.complain(category="environment", department="cleaning")
    unexplained = case.try_complete("handle_department", DEPARTMENT, outcome="escalate")
    case.complete(
        "handle_department", DEPARTMENT, outcome="escalate", escalation_reason="需要调整保洁外包合同"
    )
    case.complete("handle_deputy", DEPUTY, outcome="resolved", resolution="已处理，顾客认可")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    assert case.created() == ["handle_department", "handle_deputy", "reply", "callback", "close"]
    assert case.status() == "completed"
    # the next level learns why: escalating asks a reason, in the form's words
    assert unexplained.status_code == 400
    assert unexplained.json["errors"]["json"] == {"escalation_reason": ["required when outcome is escalate"]}


def test_a_major_complaint_an_injury_goes_to_the_store_manager(mall, policy):
    case = mall.complain(injury=True, merchant_code=SHOP)
    assert case.open_tasks(STORE) == ["handle_store"]
    case.complete("handle_store", STORE, outcome="resolved", resolution="赔偿医疗费")
    case.complete("merchant_call", DESK, called=True, merchant_signed_by="何勇", signed_at="2026-11-22")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    created = case.created()
    assert sorted(created[:2]) == ["handle_store", "merchant_call"]
    assert created[2:] == ["reply", "callback", "close"]
    assert case.status() == "completed"
    [triaged] = case.announced("complaint.triaged")
    assert triaged["queue"] == "store_manager"
    # the store manager is told at once (PROCESS.md: major complaints go to the store manager at once)
    assert case.notifications().count(("major_received", "store_manager")) == 1
    [told] = [p for p in case.published("notification.requested") if p["kind"] == "major_received"]
    assert told["data"]["major_reasons"] == ["injury"]


def test_a_normal_complaint_sends_the_store_manager_no_notice_at_intake(mall, policy):
    case = mall.complain()
    assert ("major_received", "store_manager") not in case.notifications()


def test_a_resolution_not_signed_off_says_why_and_goes_to_the_operations_manager(mall, policy):
    case = mall.complain()
    case.complete("handle_floor", FLOOR, outcome="resolved", resolution="已处理，顾客认可")
    unexplained = case.try_complete("signoff_ops", OPS, signed_off=False)
    blank = case.try_complete("signoff_ops", OPS, signed_off=False, signoff_note="  ")
    case.complete("signoff_ops", OPS, signed_off=False, signoff_note="顾客并未同意换货，请营运部跟进")

    for refused in (unexplained, blank):
        assert refused.status_code == 400
        assert refused.json["errors"]["json"] == {"signoff_note": ["required when signed_off is false"]}
    assert case.open_tasks(OPS) == ["handle_ops"]
    [signoff] = [
        entry
        for entry in case.timeline()
        if entry["kind"] == "task_completed" and entry["element_id"] == "signoff_ops"
    ]
    assert signoff["detail"]["data"]["signoff_note"] == "顾客并未同意换货，请营运部跟进"


def test_a_dissatisfied_customer_reopens_the_case_one_level_above_the_last_resolver(mall, policy):
    case = mall.complain()
    case.complete("handle_floor", FLOOR, outcome="resolved", resolution="已处理，顾客认可")
    case.complete("signoff_ops", OPS, signed_off=True)
    reply_and_call_back(case, policy, reached=True, satisfied=False)
    assert case.open_tasks(OPS) == ["handle_ops"]  # one level above the floor supervisor
    case.complete("handle_ops", OPS, outcome="resolved", resolution="已处理，顾客认可")
    reply_and_call_back(case, policy, reached=True, satisfied=False)
    assert case.open_tasks(STORE) == ["handle_store"]  # one level above operations
    case.complete("handle_store", STORE, outcome="resolved", resolution="全额退款")
    reply_and_call_back(case, policy, reached=True, satisfied=True)
    case.complete("close", DESK, **CLOSE)

    assert case.created() == [
        "handle_floor",
        "signoff_ops",
        "reply",
        "callback",
        "handle_ops",
        "reply",
        "callback",
        "handle_store",
        "reply",
        "callback",
        "close",
    ]
    assert case.events().count("complaint.reopened") == 2
    assert case.status() == "completed"


def test_a_customer_unreachable_after_the_allowed_attempts_is_closed_as_no_answer(mall, policy):
    data = policy.as_workflow_data()
    spacing = data["callback_retry_after_seconds"]
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已处理，顾客认可")
    case.complete("reply", DESK, reply_text="已处理")
    case.wait(seconds=data["callback_from_seconds"])
    for attempt in range(data["callback_attempts"]):
        if attempt:
            case.wait(seconds=spacing)
        case.complete("callback", DESK, reached=False)
    result = case.complete("close", DESK, **CLOSE)

    assert case.created() == ["handle_desk", "reply"] + ["callback"] * data["callback_attempts"] + ["close"]
    assert case.status() == "completed"
    assert result["element_id"] == "close"
    [closed] = case.announced("complaint.closed")
    assert (closed["closed_as"], closed["callback_attempts_made"]) == ("no_answer", data["callback_attempts"])


def test_a_customer_reached_must_be_asked_whether_satisfied_before_the_callback_completes(mall, policy):
    data = policy.as_workflow_data()
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已处理，顾客认可")
    case.complete("reply", DESK, reply_text="已处理")
    case.wait(seconds=data["callback_from_seconds"])

    unanswered = case.try_complete("callback", DESK, reached=True, callback_note="顾客说还行")
    told = case.mall.api.post(
        f"/tasks/{case.task('callback', DESK)['id']}/complete",
        json={"data": {"reached": True, "mood": "ok"}},
        headers={**case.mall.headers(DESK), "Accept-Language": "zh-CN"},
    )
    case.complete("callback", DESK, reached=True, satisfied=True)

    assert unanswered.status_code == 400
    assert unanswered.json["errors"]["json"] == {"satisfied": ["required when reached is true"]}
    assert told.json["message"] == "任务表单有误：mood、顾客满意"
    assert told.json["errors"]["json"] == {
        "satisfied": ["已联系到顾客为“是”时必填"],
        "mood": ["不是此任务表单中的栏目"],
    }
    assert case.events().count("complaint.reopened") == 0  # not taken for a dissatisfied customer
    assert case.open_tasks(DESK) == ["close"]


def test_a_customer_not_reached_cannot_be_recorded_as_satisfied(mall, policy):
    data = policy.as_workflow_data()
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已处理，顾客认可")
    case.complete("reply", DESK, reply_text="已处理")
    case.wait(seconds=data["callback_from_seconds"])

    told = case.mall.api.post(
        f"/tasks/{case.task('callback', DESK)['id']}/complete",
        json={"data": {"reached": False, "satisfied": True}},
        headers={**case.mall.headers(DESK), "Accept-Language": "zh-CN"},
    )
    case.complete("callback", DESK, reached=False, callback_note="无人接听")

    assert told.status_code == 400
    assert told.json["errors"]["json"] == {"satisfied": ["仅在已联系到顾客为“是”时填写"]}
    [called_back] = case.announced("complaint.called_back")
    assert called_back["reached"] is False and not called_back.get("satisfied")


def test_a_letter_gets_a_written_reply(mall):
    case = mall.complain(
        channel="letter",
        category="environment",
        handle_directly=True,
        customer={"name": "王女士", "address": "星河路1号2单元301"},
    )
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已处理，顾客认可")
    case.complete("reply_written", DESK, reply_text="书面答复已寄出")

    assert case.created() == ["handle_desk", "reply_written"]
    assert ("written_reply", "customer") in case.notifications()
    assert ("reply", "customer") not in case.notifications()
    assert case.status() == "running"  # waiting to call back


@pytest.mark.parametrize("policy", [SLOW_HANDLERS], ids=["handlers given a month"])
def test_the_reply_date_is_postponed_at_most_twice_then_the_store_manager_takes_it(mall):
    case = mall.complain()  # promised reply date: 2026-11-25, three days after intake
    case.wait(days=3, hours=14)  # past 2026-11-25 23:59:59 in the mall (UTC+8)
    assert case.open_tasks(FLOOR) == [] and case.open_tasks(DESK) == ["agree_reply_date"]
    undated = case.try_complete("agree_reply_date", DESK, progress_told="商户仍在核实", customer_agreed=True)
    assert undated.json["errors"]["json"] == {
        "new_reply_date": ["required when customer_agreed is true"],
        "postpone_reason": ["required when customer_agreed is true"],
    }
    case.complete(
        "agree_reply_date",
        DESK,
        progress_told="商户仍在核实",
        customer_agreed=True,
        new_reply_date="2026-11-28",
        postpone_reason="商户负责人出差",
    )
    assert case.open_tasks(FLOOR) == ["handle_floor"]  # back to whoever held it
    case.wait(days=3)
    case.complete(
        "agree_reply_date",
        DESK,
        progress_told="仍在处理",
        customer_agreed=True,
        new_reply_date="2026-12-01",
        postpone_reason="等待厂家检测报告",
    )
    case.wait(days=3)  # the second postponed date passes, still unresolved
    # none left: the desk is not asked for a date it could not keep, only to tell the customer
    [told] = [task for task in case.tasks(DESK) if task["element_id"] == "tell_store_manager_takes"]
    asked = case.try_complete(
        "tell_store_manager_takes", DESK, progress_told="检测报告仍未出", new_reply_date="2026-12-04"
    )
    case.complete(
        "tell_store_manager_takes",
        DESK,
        progress_told="检测报告仍未出，已转店总处理",
        customer_words="希望尽快解决",
    )

    assert {field["id"] for field in told["form"]} == {"progress_told", "customer_words"}
    assert asked.status_code == 400 and "new_reply_date" in asked.json["errors"]["json"]
    assert case.open_tasks(STORE) == ["handle_store"] and case.open_tasks(FLOOR) == []
    assert case.created() == [
        "handle_floor",
        "agree_reply_date",
        "handle_floor",
        "agree_reply_date",
        "handle_floor",
        "tell_store_manager_takes",
        "handle_store",
    ]
    assert ("reply_dates_exhausted", "store_manager") in case.notifications()
    assert case.events()[-1] == "complaint.escalated"
    assert case.events().count("complaint.postponed") == 2
    [entry] = [
        entry
        for entry in case.timeline()
        if entry["kind"] == "task_completed" and entry["element_id"] == "tell_store_manager_takes"
    ]
    assert entry["detail"]["data"]["customer_words"] == "希望尽快解决"


@pytest.mark.parametrize("policy", [SLOW_HANDLERS], ids=["handlers given a month"])
def test_a_customer_who_does_not_agree_to_a_later_reply_date_goes_to_the_store_manager(mall):
    case = mall.complain(category="environment", department="cleaning")
    case.wait(days=4)
    case.complete("agree_reply_date", DESK, progress_told="清洁公司整改中", customer_agreed=False)  # no date

    assert case.created() == ["handle_department", "agree_reply_date", "handle_store"]
    assert case.open_tasks(STORE) == ["handle_store"]


def test_an_outside_route_is_tracked_until_it_concludes_and_closes_the_case(mall):
    case = mall.complain(category="price", merchant_code=SHOP)
    delivered = case.message(
        "outside_route", {"body": "consumer_association", "reference": "XB-2026-118"}, "outside-1"
    )
    assert delivered.json["status"] == "delivered"
    assert case.open_tasks(DESK) == ["merchant_call", "track_outside_route"]
    case.complete("track_outside_route", DESK, outside_result="消协调解：退一赔一", **CLOSE)

    assert sorted(case.created()) == ["handle_floor", "merchant_call", "track_outside_route"]
    assert case.events() == [
        "complaint.acknowledged",
        "complaint.triaged",
        "complaint.outside_route",
        "complaint.closed",
    ]
    assert case.status() == "completed"  # closing ends the other branches
    assert case.open_tasks(FLOOR) == [] and case.open_tasks(DESK) == []
    [route] = case.announced("complaint.outside_route")
    assert route["outside_route"]["body"] == "consumer_association"


def test_a_deployed_change_to_triage_routes_new_cases_only(mall):
    before = mall.complain(category="quality")
    body = mall_diagram()
    quality_rule = '<outputEntry id="Rule_quality_queue">\n          <text>"operations_manager"</text>'
    assert quality_rule in body["dmn"]["triage.dmn"]
    body["dmn"]["triage.dmn"] = body["dmn"]["triage.dmn"].replace(
        quality_rule, quality_rule.replace("operations_manager", "floor_supervisor")
    )
    version = mall.deploy({**body, "note": "quality to the floor"})

    after = mall.complain(category="quality")

    assert version["version"] == 2
    assert before.created() == ["handle_ops"] and before.view()["version"] == 1
    assert after.created() == ["handle_floor"] and after.view()["version"] == 2
    before.complete(
        "handle_ops", OPS, outcome="resolved", resolution="已处理，顾客认可"
    )  # the running case stays on its version
    assert before.open_tasks(DESK) == ["reply"]


# --- what PROCESS.md adds beyond the paths above


@pytest.mark.parametrize(
    "policy",
    [Policy(handler_acts_within=timedelta(days=60), first_reply_after=timedelta(days=60))],
    ids=["handlers and the reply date given two months"],
)
def test_a_complaint_unresolved_a_month_after_intake_becomes_major_and_goes_to_the_store_manager(
    mall, policy
):
    case = mall.complain()
    case.wait(seconds=seconds(policy, "major_unresolved_after") - 60)
    assert case.open_tasks(FLOOR) == ["handle_floor"]  # not yet
    case.wait(seconds=61)

    assert case.open_tasks(FLOOR) == [] and case.open_tasks(STORE) == ["handle_store"]
    assert case.created() == ["handle_floor", "handle_store"]
    assert case.events()[-1] == "complaint.became_major"
    assert ("major_unresolved", "store_manager") in case.notifications()
    [became] = case.announced("complaint.became_major")
    assert became["became_major"] is True
    case.complete("handle_store", STORE, outcome="resolved", resolution="店总协调全额退款")
    assert case.open_tasks(DESK) == ["reply"]


def test_a_case_the_store_manager_holds_a_month_after_intake_is_announced_major_and_stays_with_it(
    mall, policy
):
    case = mall.complain()
    case.wait(seconds=seconds(policy, "handler_acts_within") + 1)  # floor -> operations
    case.wait(seconds=seconds(policy, "handler_acts_within") + 1)  # -> store manager
    assert case.open_tasks(STORE) == ["handle_store"]
    case.wait(seconds=seconds(policy, "major_unresolved_after"))

    assert case.open_tasks(STORE) == ["handle_store"]  # the same task: told, not moved
    assert case.created() == ["handle_floor", "handle_ops", "handle_store"]
    assert "complaint.became_major" in case.events()
    assert case.notifications().count(("major_unresolved", "store_manager")) == 1


def test_the_callback_is_due_at_the_end_of_its_window_and_the_desk_is_warned_when_it_passes(mall, policy):
    case = mall.complain(category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已处理，顾客认可")
    replied_at = mall.clock.now()
    case.complete("reply", DESK, reply_text="已处理")
    case.wait(seconds=seconds(policy, "callback_from"))

    callback = case.task("callback", DESK)
    window_ends = replied_at + timedelta(seconds=seconds(policy, "callback_until"))
    assert callback["due_at"] == window_ends.isoformat()
    assert ("callback_reminder", "service_desk") in case.notifications()
    assert ("callback_overdue", "service_desk") not in case.notifications()
    case.wait(seconds=seconds(policy, "callback_until") - seconds(policy, "callback_from") + 1)

    assert ("callback_overdue", "service_desk") in case.notifications()
    assert case.open_tasks(DESK) == ["callback"]  # still to be made, now late
    case.complete("callback", DESK, reached=True, satisfied=True)
    assert case.created() == ["handle_desk", "reply", "callback", "close"]


def test_the_reply_is_due_by_the_reply_date_and_the_operations_manager_is_told_when_it_passes(mall, policy):
    case = mall.complain(category="environment", handle_directly=True, promised_reply_date="2026-11-23")
    case.complete("handle_desk", DESK, outcome="resolved", resolution="已道歉")

    reply = case.task("reply", DESK)
    # the end of the promised day in the mall's zone (Asia/Shanghai): 2026-11-23 23:59:59+08:00
    assert datetime.fromisoformat(reply["due_at"]) == datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)
    assert ("reply_late", "operations_manager") not in case.notifications()
    case.wait(days=2)

    assert ("reply_late", "operations_manager") in case.notifications()
    assert case.open_tasks(DESK) == ["reply"]  # still the desk's, now late
    case.complete("reply", DESK, reply_text="已处理")
    assert case.open_tasks(DESK) == []


ASKING = [  # (complaint, the level that holds it)
    ({"category": "environment", "handle_directly": True}, "handle_desk", DESK),
    ({}, "handle_floor", FLOOR),
    ({"category": "environment", "department": "cleaning"}, "handle_department", DEPARTMENT),
    ({"category": "quality"}, "handle_ops", OPS),
    (
        {"category": "staff_service", "department": "cleaning", "about_department_manager": True},
        "handle_deputy",
        DEPUTY,
    ),
    ({"injury": True}, "handle_store", STORE),
]


def test_every_level_can_ask_another_department_to_act_which_the_desk_tracks_then_it_comes_back(mall):
    for complaint, element, who in ASKING:
        case = mall.complain(**complaint)
        case.complete(
            element,
            who,
            outcome="ask_department",
            department_asked="engineering",
            department_request="修复试衣间门锁",
        )
        assert element not in case.open_tasks(who) and case.open_tasks(DESK) == ["track_department"], element
        # the timeline tells the completion before the task it opened, though both happened at once
        told = [(entry["kind"], entry["element_id"]) for entry in case.timeline()]
        assert told.index(("task_completed", element)) < told.index(("task_created", "track_department"))
        # the engineering department's manager is told, not the manager of the complaint's department
        [told] = [p for p in case.published(NOTICE_TO_DEPARTMENT) if p["kind"] == "assist_requested"]
        assert (told["to"], told["department"], told["data"]["department_request"]) == (
            "department_manager",
            "engineering",
            "修复试衣间门锁",
        ), element
        # and reads the case from now on (the cleaning department asked in the third case: its own)
        engineering = case.mall.headers(("department_manager", {"departments": ["engineering"]}))
        assert case.mall.api.get(f"/cases/{case.id}", headers=engineering).status_code == 200, element
        case.complete("track_department", DESK, department_acted=True, department_result="工程部已修复")
        assert element in case.open_tasks(who) and "track_department" not in case.open_tasks(DESK), element
        case.complete(element, who, outcome="resolved", resolution="门锁已修复，客户认可")

        assert case.created()[:3] == [element, "track_department", element], element
        assert case.created()[3] in ("signoff_ops", "reply"), element


@pytest.mark.parametrize("policy", [SLOW_HANDLERS], ids=["handlers given a month"])
def test_a_reply_date_reached_while_the_desk_tracks_a_department_returns_to_tracking_once_postponed(mall):
    case = mall.complain()  # promised reply date: 2026-11-25
    case.complete(
        "handle_floor",
        FLOOR,
        outcome="ask_department",
        department_asked="engineering",
        department_request="修门锁",
    )
    case.wait(days=3, hours=14)  # past the reply date while the desk tracks the engineering department
    assert case.open_tasks(DESK) == ["agree_reply_date"]
    case.complete(
        "agree_reply_date",
        DESK,
        progress_told="工程部仍在修",
        customer_agreed=True,
        new_reply_date="2026-11-30",
        postpone_reason="等配件",
    )

    # the desk tracks the department again; the floor supervisor has nothing until it has acted
    assert case.open_tasks(DESK) == ["track_department"] and case.open_tasks(FLOOR) == []
    case.complete("track_department", DESK, department_acted=True, department_result="工程部已修复")
    assert case.open_tasks(FLOOR) == ["handle_floor"]
    assert case.created() == [
        "handle_floor",
        "track_department",
        "agree_reply_date",
        "track_department",
        "handle_floor",
    ]


def test_asking_a_department_to_act_names_the_department_and_what_it_is_asked(mall):
    case = mall.complain(category="price", merchant_code=SHOP)
    unnamed = case.try_complete("handle_floor", FLOOR, outcome="ask_department")

    assert unnamed.status_code == 400
    assert unnamed.json["errors"]["json"] == {
        "department_asked": ["required when outcome is ask_department"],
        "department_request": ["required when outcome is ask_department"],
    }
    assert case.open_tasks(FLOOR) == ["handle_floor"] and case.open_tasks(DESK) == ["merchant_call"]


def test_a_face_to_face_reply_records_the_customers_signature(mall, policy):
    case = mall.complain(channel="on_site", category="environment", handle_directly=True)
    case.complete("handle_desk", DESK, outcome="resolved", resolution="当场更换")
    unsigned = case.try_complete("reply_in_person", DESK, reply_text="已当面答复")
    signed_undated = case.try_complete("reply_in_person", DESK, reply_text="已当面答复", customer_signed=True)
    signed = case.complete(
        "reply_in_person",
        DESK,
        reply_text="已当面答复",
        customer_signed=True,
        customer_signed_at="2026-11-22",
        customer_view="满意",
    )

    assert unsigned.status_code == 400 and "customer_signed" in unsigned.json["errors"]["json"]
    assert signed_undated.json["errors"]["json"] == {
        "customer_signed_at": ["required when customer_signed is true"]
    }
    assert signed["state"] == "completed"
    assert case.events()[-1] == "complaint.replied"
    case.wait(seconds=seconds(policy, "callback_from"))
    case.complete("callback", DESK, reached=True, satisfied=True)
    assert case.created() == ["handle_desk", "reply_in_person", "callback", "close"]


@pytest.mark.parametrize("policy", [SLOW_HANDLERS], ids=["handlers given a month"])
def test_the_holder_is_reminded_before_the_reply_date_and_the_next_level_alerted_when_it_passes(mall, policy):
    case = mall.complain()  # promised reply date 2026-11-25: reminded a day before, at 23:59:59 in the mall
    case.wait(days=2, hours=13, minutes=59)  # 2026-11-24 15:59 UTC
    assert ("reply_date_reminder", "floor_supervisor") not in case.notifications()
    case.wait(minutes=1)
    assert case.notifications().count(("reply_date_reminder", "floor_supervisor")) == 1
    [reminder] = [
        sent for sent in case.published("notification.requested") if sent["kind"] == "reply_date_reminder"
    ]
    assert reminder["data"]["postponed_to"] is None  # notify's message names the promised date
    assert ("reply_overdue", "operations_manager") not in case.notifications()
    case.wait(days=1)  # the reply date passes, still unresolved

    assert ("reply_overdue", "operations_manager") in case.notifications()
    assert case.open_tasks(DESK) == ["agree_reply_date"]
    assert case.created() == ["handle_floor", "agree_reply_date"]

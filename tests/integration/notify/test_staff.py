"""Staff messages reach the holders of a queue within their scope, in their inbox, and departments'
systems by signed webhook; the inbox and the delivery log answer over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.notify.app import create_app
from tests.conftest import bearer
from tests.integration.notify.conftest import (
    WEBHOOK_SECRET,
    complaint_received,
    outbox,
    requested,
)


@pytest.fixture
def api(notify):
    return create_app(notify).test_client()


@pytest.fixture
def as_user(tokens):
    """Headers of a staff user by username, with the roles and scopes of tests' STAFF list."""
    from tests.integration.notify.conftest import STAFF

    people = {username: (roles, floors, departments) for username, _, roles, floors, departments in STAFF}

    def headers(username: str) -> dict:
        roles, floors, departments = people[username]
        return bearer(tokens, *roles, floors=floors, departments=departments, subject=username)

    return headers


def inbox(api, headers, **query) -> dict:
    answer = api.get("/inbox", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_an_escalation_to_the_floor_supervisor_reaches_only_the_supervisor_of_that_floor(
    deliver, worker, api, as_user
):
    complaint = complaint_received()  # a 3F shop
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "escalated", "floor_supervisor", queue="service_desk"))

    worker.tick()

    [item] = inbox(api, as_user("floor3"))["items"]
    assert item["title"] == "投诉 TS-20261122-0001 已升级至楼层主管"
    assert "优品服饰" in item["body"] and "2026年11月25日" in item["body"]
    assert item["number"] == "TS-20261122-0001" and item["read_at"] is None
    assert inbox(api, as_user("floor2"))["items"] == []


def test_a_message_to_a_department_manager_reaches_that_departments_manager_and_its_system_signed(
    notify, deliver, worker, gateway, api, as_user
):
    complaint = complaint_received(category="environment", department="cleaning", merchant=None, floor="1F")
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "escalated", "department_manager"))

    worker.tick()

    assert [item["kind"] for item in inbox(api, as_user("cleaning"))["items"]] == ["escalated"]
    [hook] = gateway.received
    assert hook.path == "/hooks/cleaning"
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), hook.headers["X-Mall-Timestamp"].encode() + b"." + hook.raw, hashlib.sha256
    ).hexdigest()
    assert hook.headers["X-Mall-Signature"] == f"sha256={expected}"
    body = json.loads(hook.raw)
    assert body["number"] == "TS-20261122-0001" and body["kind"] == "escalated"
    assert hook.headers["X-Mall-Delivery"] == body["delivery_id"]
    assert "13912345678" not in hook.raw.decode() and "王女士" not in hook.raw.decode()  # no customer data


@pytest.mark.parametrize("held", [False, True], ids=["complaint known", "request held for its complaint"])
def test_a_department_asked_to_act_is_told_through_its_manager_though_the_complaint_is_not_about_it(
    deliver, worker, gateway, api, as_user, held
):
    complaint = complaint_received()  # a 3F shop: no department of its own
    asked = requested(
        complaint.complaint_id,
        "assist_requested",
        "department_manager",
        department_asked="cleaning",
        department_request="请清理三楼试衣间门口的积水",
        asked_by="floor_supervisor",
    )
    asked.payload["department"] = "cleaning"  # as routing sends it for notify_department
    for envelope in (
        (asked, complaint) if held else (complaint, asked)
    ):  # held: kept until the complaint comes
        deliver(envelope)

    worker.tick()

    [item] = inbox(api, as_user("cleaning"))["items"]
    assert item["title"] == "投诉 TS-20261122-0001 请保洁部协助处理"
    assert "（楼层主管）请保洁部协助" in item["body"] and "请清理三楼试衣间门口的积水" in item["body"]
    assert [hook.path for hook in gateway.received] == ["/hooks/cleaning"]
    assert inbox(api, as_user("floor3"))["items"] == []


def test_the_overdue_merchant_call_tells_the_operations_manager_in_the_inbox_and_its_system(
    deliver, worker, gateway, api, as_user
):
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "overdue", "operations_manager"))

    worker.tick()

    [item] = inbox(api, as_user("ops"))["items"]
    assert item["title"] == "投诉 TS-20261122-0001：商户跟踪电话已超时" and "优品服饰" in item["body"]
    assert [post.path for post in gateway.received] == ["/hooks/ops"]


def test_a_queue_nobody_holds_is_announced_as_failed_and_the_desk_told(notify, deliver, worker, api, as_user):
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "escalated", "deputy_store_manager"))  # no deputy in STAFF

    worker.tick()

    [event] = outbox(notify, "notification.failed")
    assert (event["reason"], event["audience"], event["to"]) == (
        "no_recipient",
        "staff",
        "deputy_store_manager",
    )
    [alert] = inbox(api, as_user("desk"))["items"]
    assert (
        alert["kind"] == "delivery_failed"
        and "（升级，发给员工）未能送达：没有担任店副总的员工" in alert["body"]
    )


def test_a_capa_record_opened_by_reporting_reaches_the_operations_managers_inbox(
    deliver, worker, api, as_user
):
    complaint = complaint_received()
    deliver(complaint)
    payload = {
        "capa_id": "5c7e3f0a-0000-4000-8000-000000000001",
        "problem_key": "merchant_service|merchant:M-3F-001",
        "category": "merchant_service",
        "merchant_code": "M-3F-001",
        "merchant_name": "优品服饰",
        "floor": "3F",
        "department": None,
        "occurrences": 3,
        "window_days": 30,
        "complaint_ids": [str(uuid.uuid4()), str(uuid.uuid4()), complaint.complaint_id],
        "numbers": ["TS-20261120-0001", "TS-20261121-0002", "TS-20261122-0001"],
        "queue": "operations_manager",
    }
    opened = Envelope(
        type="capa.opened",
        mall_id="demo",
        actor=Actor("reporting", "service"),
        occurred_at=datetime(2026, 11, 22, 2, 5, tzinfo=UTC),
        payload=payload,
    )

    assert deliver(opened) and not deliver(opened)  # the same event twice is one message
    worker.tick()

    [item] = inbox(api, as_user("ops"))["items"]
    assert item["kind"] == "capa_opened" and "优品服饰" in item["title"]
    assert "30 天内" in item["body"] and "TS-20261121-0002" in item["body"]
    assert inbox(api, as_user("desk"))["items"] == []


def test_an_unknown_kind_is_still_delivered_with_the_generic_template(
    notify, deliver, worker, gateway, api, as_user
):
    complaint = complaint_received()
    deliver(complaint)
    deliver(requested(complaint.complaint_id, "merchant_answered", "service_desk"))
    deliver(requested(complaint.complaint_id, "survey_invitation", "customer"))

    worker.tick()

    [item] = inbox(api, as_user("desk"))["items"]
    assert item["title"] == "投诉 TS-20261122-0001：新通知"  # a kind the catalogue does not name yet
    [sms] = gateway.received
    assert sms.json["template_id"] == "SMS_199" and "TS-20261122-0001" in sms.json["content"]


def test_my_inbox_pages_newest_first_and_marks_read(notify, deliver, worker, api, as_user):
    complaint = complaint_received()
    deliver(complaint)
    for kind in ("overdue", "escalated", "reply_dates_exhausted"):
        deliver(requested(complaint.complaint_id, kind, "operations_manager"))
        notify.clock.advance(timedelta(minutes=1))
        worker.tick()

    first = inbox(api, as_user("ops"), limit=2)
    second = inbox(api, as_user("ops"), limit=2, cursor=first["next_cursor"])
    read = api.post(f"/inbox/{first['items'][0]['id']}/read", headers=as_user("ops"))
    others = api.post(f"/inbox/{first['items'][0]['id']}/read", headers=as_user("desk"))

    assert [item["kind"] for item in first["items"] + second["items"]] == [
        "reply_dates_exhausted",
        "escalated",
        "overdue",
    ]
    assert first["unread"] == 3 and second["next_cursor"] is None
    assert read.status_code == 200 and read.json["read_at"] is not None
    assert others.status_code == 404  # someone else's notification is not there for me
    assert [item["kind"] for item in inbox(api, as_user("ops"), unread="true")["items"]] == [
        "escalated",
        "overdue",
    ]
    assert inbox(api, as_user("ops"))["unread"] == 2


def test_the_inbox_needs_a_token_and_refuses_a_bad_cursor(api, as_user):
    assert api.get("/inbox").status_code == 401
    bad = api.get("/inbox?cursor=nonsense", headers=as_user("ops"))
    assert bad.status_code == 400 and "cursor" in bad.json["errors"]["query"]
    assert api.get("/inbox?colour=red", headers=as_user("ops")).status_code == 400

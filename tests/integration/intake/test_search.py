"""Search over complaints: by number, phone, name, shop and Chinese words (description, request,
resolutions), ranked, within the caller's scope, masked like the list; and the list's new filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import TASK_COMPLETED, TASK_CREATED
from services.intake.adapters.search import tsquery
from tests.conftest import bearer
from tests.integration.conftest import complaint

YOGURT = complaint(category="quality", description="买的酸奶过期了，要求退款", customer_request=["refund"])
LIFT = complaint(
    category="facility",
    floor="2F",
    merchant_code=None,
    department="engineering",
    description="电梯停运半小时",
    customer={"name": "李先生", "phone": "+86 137-0000-1111"},
)


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [item["number"] for item in response.json["items"]]


def _task(intake, kind, complaint_id, task_id, at, data=None, due_at=None):
    payload = {
        "task_id": task_id,
        "queue": "floor_supervisor",
        "element_id": "handle_floor",
        "title": "处理",
        "number": "TS",
        "state": "open",
        "floor": "3F",
        "department": None,
        "assignee": None,
        "due_at": due_at,
        "data": data or {},
    }
    with intake.pool.connection() as conn:
        intake.bus.handle_event(
            conn,
            Envelope(
                type=kind,
                mall_id="demo",
                actor=Actor("routing"),
                payload=payload,
                occurred_at=at,
                complaint_id=complaint_id,
            ),
        )


def test_a_two_character_chinese_word_finds_the_complaint_that_holds_it_and_not_the_others(client, desk):
    yogurt = client.post("/complaints", json=YOGURT, headers=desk).json
    client.post("/complaints", json=complaint(), headers=desk)

    assert _numbers(client.get("/complaints/search", query_string={"q": "酸奶"}, headers=desk)) == [
        yogurt["number"]
    ]
    assert _numbers(client.get("/complaints/search", query_string={"q": "酸奶过期"}, headers=desk)) == [
        yogurt["number"]
    ]
    assert _numbers(client.get("/complaints/search", query_string={"q": "奶酸"}, headers=desk)) == []


def test_the_number_the_phone_however_typed_the_name_and_the_shop_find_a_complaint(client, desk):
    first = client.post("/complaints", json=complaint(), headers=desk).json
    lift = client.post("/complaints", json=LIFT, headers=desk).json

    def found(q):
        return _numbers(client.get("/complaints/search", query_string={"q": q}, headers=desk))

    assert found(first["number"].lower()) == [first["number"]]
    bare = first["number"].removeprefix("TS-")  # 20261122-0001: the number without its prefix
    assert found(bare) == found(bare.replace("-", "")) == found(bare.replace("-", " ")) == [first["number"]]
    assert found("137 0000 1111") == [lift["number"]]
    assert found("+8613700001111") == [lift["number"]]
    assert found("李先生") == [lift["number"]]
    assert first["number"] in found(first["merchant"]["shop_name"])
    assert lift["number"] not in found(first["merchant"]["shop_name"])


def test_what_the_customer_asked_for_and_a_resolution_recorded_by_routing_are_searched_too(
    client, desk, intake
):
    yogurt = client.post("/complaints", json=YOGURT, headers=desk).json
    at = datetime(2026, 11, 22, 3, tzinfo=UTC)
    task_id = str(uuid.uuid4())
    _task(intake, TASK_CREATED, yogurt["id"], task_id, at)
    _task(
        intake,
        TASK_COMPLETED,
        yogurt["id"],
        task_id,
        at + timedelta(hours=1),
        data={"outcome": "resolved", "resolution": "商户同意全额赔偿并致歉"},
    )

    assert _numbers(client.get("/complaints/search", query_string={"q": "退款"}, headers=desk)) == [
        yogurt["number"]
    ]
    assert _numbers(client.get("/complaints/search", query_string={"q": "全额赔偿"}, headers=desk)) == [
        yogurt["number"]
    ]


def test_the_best_match_comes_first(client, desk):
    in_text = client.post(
        "/complaints",
        json=complaint(description="顾客说王女士也在场", customer={"name": "张先生", "phone": "13800000000"}),
        headers=desk,
    ).json
    by_name = client.post("/complaints", json=complaint(description="店员不理人"), headers=desk).json
    assert _numbers(client.get("/complaints/search", query_string={"q": "王女士"}, headers=desk))[:2] == [
        by_name["number"],
        in_text["number"],
    ]


def test_the_last_four_digits_of_the_phone_find_its_complaints_in_search_and_list_within_scope_masked(
    client, desk, tokens
):
    yogurt = client.post("/complaints", json=YOGURT, headers=desk).json  # 13912345678, 3F
    same_tail = {"name": "赵女士", "phone": "+86 186-0000-5678"}
    other = client.post("/complaints", json={**YOGURT, "customer": same_tail}, headers=desk).json
    client.post("/complaints", json=LIFT, headers=desk)  # ends 1111, 2F
    overcharged = {**YOGURT, "customer": {**same_tail, "phone": "13800001111"}, "description": "多收了5678元"}
    amount = client.post("/complaints", json=overcharged, headers=desk).json
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")

    searched = client.get("/complaints/search", query_string={"q": "5678"}, headers=desk)
    listed = client.get("/complaints", query_string={"phone": "5678"}, headers=desk)
    masked = client.get("/complaints/search", query_string={"q": "1111"}, headers=floor3).json["items"]

    expected = sorted([other["number"], yogurt["number"]])  # not `amount`'s description
    assert sorted(_numbers(searched)) == sorted(_numbers(listed)) == expected
    assert [item["number"] for item in masked] == [amount["number"]]  # the lift's is on 2F
    assert masked[0]["customer"]["phone"] == "138****1111"
    refused = client.get("/complaints", query_string={"phone": "567"}, headers=desk)
    assert refused.status_code == 400 and list(refused.json["errors"]["query"]) == ["phone"]


def test_a_floor_supervisor_finds_only_its_floors_and_sees_the_customer_masked(client, desk, tokens):
    client.post("/complaints", json=YOGURT, headers=desk)
    client.post("/complaints", json={**YOGURT, "floor": "2F", "merchant_code": None}, headers=desk)
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")

    found = client.get("/complaints/search", query_string={"q": "酸奶"}, headers=floor3).json["items"]
    by_phone = client.get("/complaints/search", query_string={"q": "13912345678"}, headers=floor3).json[
        "items"
    ]

    assert [item["floor"] for item in found] == ["3F"]
    assert found[0]["customer"]["masked"] and found[0]["customer"]["phone"] == "139****5678"
    assert [item["floor"] for item in by_phone] == ["3F"]


def test_search_takes_the_lists_filters_and_refuses_unknown_or_bad_ones(client, desk):
    client.post("/complaints", json=YOGURT, headers=desk)
    client.post("/complaints", json={**YOGURT, "channel": "web"}, headers=desk)

    assert (
        len(
            _numbers(
                client.get("/complaints/search", query_string={"q": "酸奶", "channel": "web"}, headers=desk)
            )
        )
        == 1
    )
    bad = client.get("/complaints/search", query_string={"q": "酸奶", "overdue": "yes"}, headers=desk)
    unknown = client.get("/complaints/search", query_string={"colour": "red"}, headers=desk)
    assert bad.status_code == 400 and "overdue" in str(bad.json)
    assert unknown.status_code == 400 and "colour" in str(unknown.json)
    assert client.get("/complaints/search", query_string={"q": "酸奶"}).status_code == 401


def test_punctuation_alone_finds_nothing_and_quotes_cannot_break_the_query(client, desk):
    client.post("/complaints", json=YOGURT, headers=desk)
    for q in ["，。！", "' & | ! <->", "酸奶' | '过期"]:
        response = client.get("/complaints/search", query_string={"q": q}, headers=desk)
        assert response.status_code == 200, (q, response.json)
    assert tsquery("，。！") is None
    assert tsquery("酸奶' | 'x") == "('酸奶') & 'x':*"


def test_the_list_accepts_a_phone_and_overdue(client, desk, intake, clock):
    first = client.post("/complaints", json=complaint(), headers=desk).json
    lift = client.post("/complaints", json=LIFT, headers=desk).json
    _task(
        intake,
        TASK_CREATED,
        lift["id"],
        str(uuid.uuid4()),
        clock.now(),
        due_at=(clock.now() + timedelta(hours=24)).isoformat(),
    )

    by_phone = _numbers(client.get("/complaints", query_string={"phone": "139-1234-5678"}, headers=desk))
    overdue_now = _numbers(client.get("/complaints", query_string={"overdue": "true"}, headers=desk))
    clock.advance(timedelta(hours=25))
    overdue_later = _numbers(client.get("/complaints", query_string={"overdue": "true"}, headers=desk))

    assert by_phone == [first["number"]]
    assert overdue_now == [] and overdue_later == [lift["number"]]


def test_an_old_match_is_still_found_when_the_newer_ones_are_too_few(client, tokens, clock):
    old = client.post("/complaints", json=YOGURT, headers=bearer(tokens, "service_desk", subject="desk")).json
    clock.advance(timedelta(days=400))
    desk = bearer(tokens, "service_desk", subject="desk")  # tokens last 30 days of the test clock
    new = client.post("/complaints", json=YOGURT, headers=desk).json

    found = _numbers(client.get("/complaints/search", query_string={"q": "酸奶"}, headers=desk))
    newest_only = _numbers(
        client.get("/complaints/search", query_string={"q": "酸奶", "limit": 1}, headers=desk)
    )

    assert found == [new["number"], old["number"]]
    assert newest_only == [new["number"]]


def test_the_list_and_search_filter_by_the_stage_the_status_page_tells(client, desk, intake, clock):
    received, handled, replied, closed = (
        client.post("/complaints", json=YOGURT, headers=desk).json for _ in range(4)
    )
    now = clock.now()
    _task(intake, TASK_CREATED, handled["id"], str(uuid.uuid4()), now)
    with intake.pool.connection() as conn:
        for item, event in ((replied, "complaint.replied"), (closed, "complaint.closed")):
            intake.bus.handle_event(
                conn,
                Envelope(
                    type=event,
                    mall_id="demo",
                    actor=Actor("routing"),
                    occurred_at=now,
                    complaint_id=item["id"],
                    payload={"number": item["number"]},
                ),
            )

    def listed(path: str, stage: str, **more) -> list[str]:
        return _numbers(client.get(path, query_string={"stage": stage, **more}, headers=desk))

    for stage, item in (
        ("received", received),
        ("handling", handled),
        ("replied", replied),
        ("closed", closed),
    ):
        assert listed("/complaints", stage) == [item["number"]], stage
        [shown] = client.get("/complaints", query_string={"stage": stage}, headers=desk).json["items"]
        assert shown["stage"] == stage
        assert listed("/complaints/search", stage, q="酸奶") == [item["number"]], stage
    bad = client.get("/complaints", query_string={"stage": "done"}, headers=desk)
    assert bad.status_code == 400 and "stage" in bad.json["errors"]["query"], bad.json

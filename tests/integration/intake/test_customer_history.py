"""The customer's history: the earlier complaints of a phone number, as the desk types it, and on a case."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import TASK_COMPLETED, TASK_CREATED
from tests.conftest import bearer
from tests.integration.conftest import complaint
from tests.integration.intake.test_search import _task


def _resolved(client, desk, intake, clock, description: str, resolution: str) -> dict:
    """A complaint the desk recorded whose task was completed an hour later with `resolution`."""
    recorded = client.post("/complaints", json=complaint(description=description), headers=desk).json
    task_id = str(uuid.uuid4())
    _task(intake, TASK_CREATED, recorded["id"], task_id, clock.now())
    _task(
        intake,
        TASK_COMPLETED,
        recorded["id"],
        task_id,
        clock.now() + timedelta(hours=1),
        data={"resolution": resolution},
    )
    return recorded


def _closed(intake, clock, recorded: dict) -> None:
    with intake.pool.connection() as conn:
        intake.bus.handle_event(
            conn,
            Envelope(
                type="complaint.closed",
                mall_id="demo",
                actor=Actor("routing"),
                occurred_at=clock.now() + timedelta(hours=2),
                complaint_id=recorded["id"],
                payload={"number": recorded["number"]},
            ),
        )


def test_the_desk_sees_how_often_a_phone_complained_when_last_and_the_outcome(
    client, desk, intake, clock, tokens
):
    first = _resolved(
        client, desk, intake, clock, "买的酸奶过期了", "退款 12 元，王女士满意，电话 13912345678"
    )
    _closed(intake, clock, first)
    clock.advance(timedelta(days=2))
    second = client.post(
        "/complaints", json=complaint(customer={"name": "王女士", "phone": "+86 139 1234 5678"}), headers=desk
    ).json
    client.post(
        "/complaints", json=complaint(customer={"name": "李先生", "phone": "13700001111"}), headers=desk
    )

    history = client.get(
        "/complaints/customer-history", query_string={"phone": "139-1234-5678"}, headers=desk
    )
    ops = bearer(tokens, "operations_manager", subject="ops")
    for_ops = client.get(
        "/complaints/customer-history", query_string={"phone": "13912345678"}, headers=ops
    ).json

    assert history.status_code == 200, history.json
    body = history.json
    assert body["count"] == 2 and [item["number"] for item in body["items"]] == [
        second["number"],
        first["number"],
    ]
    assert body["last_received_at"] == second["received_at"]
    # the desk sees customers as written, the operations manager (holding no task) masked
    assert body["items"][1]["outcome"] == "退款 12 元，王女士满意，电话 13912345678"
    assert for_ops["items"][1]["outcome"] == "退款 12 元，王**满意，电话 139****5678"
    assert for_ops["items"][1]["description"] == "买的酸奶过期了"
    assert not body["items"][1]["open"]


def test_the_case_page_shows_the_other_complaints_of_its_phone_within_the_callers_scope(
    client, desk, tokens, clock
):
    first = client.post("/complaints", json=complaint(), headers=desk).json
    clock.advance(timedelta(minutes=1))
    other_floor = client.post(
        "/complaints", json=complaint(floor="2F", merchant_code=None), headers=desk
    ).json
    clock.advance(timedelta(minutes=1))
    latest = client.post("/complaints", json=complaint(), headers=desk).json
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")

    for_desk = client.get(f"/complaints/{latest['id']}/customer-history", headers=desk).json
    for_floor3 = client.get(f"/complaints/{latest['id']}/customer-history", headers=floor3).json

    assert [item["number"] for item in for_desk["items"]] == [other_floor["number"], first["number"]]
    assert [item["number"] for item in for_floor3["items"]] == [first["number"]] and for_floor3["count"] == 1


def test_a_bad_phone_is_refused_naming_the_field_and_an_unknown_case_is_not_found(client, desk):
    bad = client.get("/complaints/customer-history", query_string={"phone": "abc"}, headers=desk)
    missing = client.get("/complaints/customer-history", headers=desk)
    unknown = client.get(f"/complaints/{uuid.uuid4()}/customer-history", headers=desk)

    assert bad.status_code == 400 and "phone" in str(bad.json)
    assert missing.status_code == 400 and "phone" in str(missing.json)
    assert unknown.status_code == 404


def test_an_erasure_takes_the_customers_details_out_of_the_resolutions_and_the_search(
    client, desk, intake, clock
):
    from services.intake.adapters.erasure import erase_complaints

    first = client.post("/complaints", json=complaint(), headers=desk).json
    task_id = str(uuid.uuid4())
    _task(intake, TASK_CREATED, first["id"], task_id, clock.now())
    _task(
        intake,
        TASK_COMPLETED,
        first["id"],
        task_id,
        clock.now() + timedelta(hours=1),
        data={"resolution": "已致电王女士 13912345678，同意换货"},
    )
    with intake.pool.connection() as conn:
        erase_complaints(conn, [first["id"]], intake.objects)
        resolutions = conn.execute(
            "SELECT resolutions FROM intake.complaints WHERE id = %s", (first["id"],)
        ).fetchone()

    def found(q):
        return client.get("/complaints/search", query_string={"q": q}, headers=desk).json["items"]

    assert "王女士" not in resolutions["resolutions"] and "13912345678" not in resolutions["resolutions"]
    assert "同意换货" in resolutions["resolutions"]
    assert found("王女士") == [] and found("13912345678") == [] and len(found("同意换货")) == 1


def test_a_name_a_correction_cleared_stays_masked_in_the_history_and_the_related_lists(
    client, desk, intake, clock, tokens
):
    first = _resolved(client, desk, intake, clock, "店员对王女士态度恶劣", "商户向王女士致歉")
    _closed(intake, clock, first)
    cleared = client.patch(
        f"/complaints/{first['id']}",
        json={"reason": "顾客要求不留姓名", "customer": {"name": None}},
        headers=desk,
    )
    clock.advance(timedelta(minutes=5))
    latest = client.post("/complaints", json=complaint(), headers=desk).json
    ops = bearer(tokens, "operations_manager", subject="ops")

    history = client.get(f"/complaints/{latest['id']}/customer-history", headers=ops).json["items"]
    related = client.get(f"/complaints/{latest['id']}/related", headers=ops).json["suggested"]

    assert cleared.status_code == 200
    assert [item["number"] for item in history] == [first["number"]]
    assert [item["number"] for item in related] == [first["number"]]
    for shown in (*history, *related):
        assert "王女士" not in shown["description"] and "王女士" not in (shown["outcome"] or "")
    assert history[0]["outcome"] == "商户向王**致歉"


def test_a_resolution_is_no_outcome_until_the_case_closes_with_it(client, desk, intake, clock):
    # the floor supervisor's resolution the operations manager then refused to sign off
    _resolved(client, desk, intake, clock, "店员态度恶劣", "未认领就提交")

    history = client.get(
        "/complaints/customer-history", query_string={"phone": "13912345678"}, headers=desk
    ).json

    assert history["items"][0]["outcome"] is None

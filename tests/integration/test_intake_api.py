"""Intake's HTTP API against the real PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import pytest

from services.common.web.api import add_liveness
from tests.conftest import bearer
from tests.integration.conftest import complaint, outbox_rows


def post(client, headers, body, **kwargs):
    return client.post("/complaints", json=body, headers={**headers, **kwargs.pop("extra", {})}, **kwargs)


def test_a_desk_complaint_is_recorded_with_a_number_and_announced_through_the_outbox(client, desk, intake):
    response = post(client, desk, complaint())

    assert response.status_code == 201, response.json
    record = response.json
    assert record["number"] == "TS-20261122-0001"
    assert record["severity"] == "normal"
    assert record["promised_reply_date"] == "2026-11-25"  # 3 days after receipt, Asia/Shanghai
    assert record["merchant"]["shop_name"] and record["merchant"]["floor"] == "3F"
    assert record["customer"]["preferred_reply_channel"] == "phone"
    [event] = outbox_rows(intake)
    assert event["routing_key"] == "complaint.received"
    assert event["envelope"]["complaint_id"] == record["id"]
    assert event["envelope"]["payload"]["number"] == record["number"]
    assert event["envelope"]["payload"]["policy"]["merchant_call_within_seconds"] == 24 * 3600
    assert event["envelope"]["actor"] == {"id": "desk", "role": "service_desk"}


def test_numbers_count_up_within_the_mall_day_and_restart_the_next_day(client, desk, clock):
    first = post(client, desk, complaint()).json["number"]
    second = post(client, desk, complaint()).json["number"]
    clock.advance(timedelta(days=1))
    next_day = post(client, desk, complaint()).json["number"]

    assert (first, second, next_day) == ("TS-20261122-0001", "TS-20261122-0002", "TS-20261123-0001")


def test_a_phone_complaint_without_a_phone_is_refused_naming_the_field(client, desk, intake):
    body = complaint(customer={"name": "王女士"})

    response = post(client, desk, body)

    assert response.status_code == 400
    assert response.json["errors"]["json"]["customer"]["phone"]
    assert "customer.phone" in response.json["message"]
    assert outbox_rows(intake) == []  # nothing half-written, no event


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"category": None}, "category"),
        ({"description": ""}, "description"),
        ({"amount": "-1"}, "amount"),
        ({"people_count": 0}, "people_count"),
        ({"surprise": 1}, "surprise"),
        ({"occurred_at": "2026-11-21T10:00:00"}, "occurred_at"),  # no time zone
    ],
)
def test_malformed_fields_are_refused_with_a_400_naming_them(client, desk, changes, field):
    response = post(client, desk, complaint(**changes))

    assert response.status_code == 400
    assert field in response.json["errors"]["json"]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"channel": "email", "customer": {"name": "李先生"}}, ("customer", "email")),
        ({"merchant_code": "M-2F-001"}, ("merchant_code",)),  # merchant on 2F, complaint says 3F
        ({"merchant_code": "NOPE"}, ("merchant_code",)),
        ({"floor": "9F", "merchant_code": None}, ("floor",)),
        ({"category": "facility", "merchant_code": None}, ("department",)),
        ({"customer": {"anonymous": True}}, ("customer", "anonymous")),
        ({"occurred_at": "2026-12-30T10:00:00+08:00"}, ("occurred_at",)),
        ({"promised_reply_date": "2026-11-01"}, ("promised_reply_date",)),
        ({"promised_reply_date": "9999-12-31"}, ("promised_reply_date",)),
        (
            {"customer": {"phone": "13912345678", "preferred_reply_channel": "letter"}},
            ("customer", "address"),
        ),
    ],
)
def test_incomplete_or_inconsistent_complaints_are_refused_naming_the_field(client, desk, changes, path):
    response = post(client, desk, complaint(**changes))

    assert response.status_code == 400, response.json
    node = response.json["errors"]["json"]
    for key in path:
        node = node[key]
    assert node


def test_one_refusal_names_the_schema_s_and_the_rules_errors_together_and_writes_nothing(
    client, desk, intake
):
    body = complaint(
        people_count="十",  # the schema refuses it
        occurred_at="2026-12-30T10:00:00+08:00",  # a rule refuses it: in the future
        floor="9F",  # unknown to the reference data
        merchant_code=None,
        customer={"name": "王女士", "phone": "123", "preferred_reply_channel": "letter"},  # no address
    )

    response = post(client, desk, body, extra={"Accept-Language": "zh-CN"})

    assert response.status_code == 400, response.json
    errors = response.json["errors"]["json"]
    assert set(errors) == {"people_count", "occurred_at", "floor", "customer"}
    assert set(errors["customer"]) == {"phone", "address"}
    assert errors["customer"]["phone"] == [
        "不是有效的电话号码：手机号为 11 位，座机至少 7 位（只能填数字、空格、横线和加号）"
    ]
    assert outbox_rows(intake) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "fax", "customer": {"name": "王女士"}}, "channel"),  # a phone is needed, or not
        (
            {"category": "rumour", "floor": None, "merchant_code": None},
            "category",
        ),  # a place is needed, or not
        ({"merchant_code": "M" * 41, "floor": None, "category": "price"}, "merchant_code"),  # it names one
    ],
)
def test_no_rule_is_judged_on_a_field_the_schema_refused(client, desk, changes, field):
    response = post(client, desk, complaint(**changes))

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == [field]


def test_an_anonymous_suggestion_box_complaint_needs_no_contact(client, desk):
    body = complaint(channel="suggestion_box", customer={"anonymous": True})

    response = post(client, desk, body)

    assert response.status_code == 201, response.json
    assert response.json["customer"]["preferred_reply_channel"] is None


def test_a_body_that_is_no_object_is_refused_as_such_and_judged_by_no_rule(client, desk):
    response = post(client, desk, [])

    assert response.status_code == 400, response.json
    assert response.json["errors"]["json"] == {"_schema": ["Invalid input type."]}


def test_a_customer_that_is_no_object_is_refused_as_such_and_not_said_to_lack_a_phone(client, desk):
    response = post(client, desk, complaint(customer=["王女士", "13912345678"]))

    assert response.status_code == 400, response.json
    assert response.json["errors"]["json"] == {"customer": {"_schema": ["Invalid input type."]}}


def test_an_anonymous_note_with_a_name_or_phone_is_refused_in_chinese_naming_them_and_records_nothing(
    client, desk, intake
):
    body = complaint(
        channel="suggestion_box", customer={"anonymous": True, "name": "王女士", "phone": "13912345678"}
    )

    response = post(client, desk, body, extra={"Accept-Language": "zh-CN"})

    assert response.status_code == 400, response.json
    customer = response.json["errors"]["json"]["customer"]
    assert set(customer) == {"name", "phone"}
    assert customer["name"] == ["匿名投诉不留姓名和电话：请清空此项，或取消勾选“匿名”"]
    assert outbox_rows(intake) == []


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"injury": True}, ["injury"]),
        ({"amount": "5000.01"}, ["large_amount"]),
        ({"lawsuit": True}, ["lawsuit"]),
        ({"media_exposure": True}, ["media_exposure"]),
        ({"people_count": 10}, ["collective"]),
        ({"amount": "5000.00", "people_count": 9}, []),
    ],
)
def test_severity_follows_the_major_complaint_rules(client, desk, changes, reasons):
    response = post(client, desk, complaint(**changes))

    assert response.status_code == 201
    assert response.json["major_reasons"] == reasons
    assert response.json["severity"] == ("major" if reasons else "normal")


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_result(client, desk, intake):
    key = {"Idempotency-Key": "retry-7f3a"}

    first = post(client, desk, complaint(), extra=key)
    second = post(client, desk, complaint(), extra=key)

    assert first.status_code == second.status_code == 201
    assert second.json["id"] == first.json["id"] and second.json["number"] == first.json["number"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(outbox_rows(intake)) == 1
    assert post(client, desk, complaint()).json["number"] == "TS-20261122-0002"  # the retry took none


def test_a_complaint_refused_as_incomplete_takes_no_number(client, desk):
    refused = post(client, desk, complaint(customer={"name": "王女士"}))  # a phone complaint with no phone

    assert refused.status_code == 400
    assert post(client, desk, complaint()).json["number"] == "TS-20261122-0001"


def test_an_idempotency_key_reused_with_another_body_is_a_conflict(client, desk):
    key = {"Idempotency-Key": "retry-7f3a"}
    post(client, desk, complaint(), extra=key)

    response = post(client, desk, complaint(description="另一件事"), extra=key)

    assert response.status_code == 409


def test_only_the_service_desk_records_complaints(client, tokens):
    assert post(client, {}, complaint()).status_code == 401
    assert post(client, {"Authorization": "Bearer nonsense"}, complaint()).status_code == 401
    supervisor = bearer(tokens, "floor_supervisor", floors=["3F"])
    assert post(client, supervisor, complaint()).status_code == 403
    other_mall = bearer(tokens, "service_desk", mall="elsewhere")
    assert post(client, other_mall, complaint()).status_code == 401


def test_an_expired_token_is_refused(client, clock):
    from services.common.identity.tokens import TokenIssuer
    from tests.conftest import SECRET

    desk = bearer(TokenIssuer(SECRET, clock, ttl=timedelta(hours=12)), "service_desk")
    clock.advance(timedelta(hours=13))

    response = post(client, desk, complaint())

    assert response.status_code == 401
    assert response.json["message"] == "token expired"


def test_a_complaint_is_found_by_id_and_by_number(client, desk):
    record = post(client, desk, complaint()).json

    by_id = client.get(f"/complaints/{record['id']}", headers=desk)
    by_number = client.get(f"/complaints/by-number/{record['number']}", headers=desk)

    assert by_id.json == by_number.json == record
    assert client.get("/complaints/by-number/TS-20000101-0001", headers=desk).status_code == 404
    assert client.get("/complaints/00000000-0000-0000-0000-000000000000", headers=desk).status_code == 404


def test_the_list_filters_and_pages_newest_first(client, desk, clock):
    numbers = []
    for index in range(5):
        category = "quality" if index % 2 == 0 else "merchant_service"
        numbers.append(post(client, desk, complaint(category=category)).json["number"])
        clock.advance(timedelta(minutes=1))

    first = client.get("/complaints?limit=2", headers=desk).json
    second = client.get(f"/complaints?limit=2&cursor={first['next_cursor']}", headers=desk).json
    third = client.get(f"/complaints?limit=2&cursor={second['next_cursor']}", headers=desk).json
    quality = client.get("/complaints?category=quality", headers=desk).json

    paged = [item["number"] for page in (first, second, third) for item in page["items"]]
    assert paged == list(reversed(numbers))
    assert third["next_cursor"] is None
    assert [item["number"] for item in quality["items"]] == [numbers[4], numbers[2], numbers[0]]


def test_the_list_filters_by_date_range_in_the_mall_time_zone(client, desk, clock):
    post(client, desk, complaint())  # 2026-11-22 10:00 in Shanghai
    clock.advance(timedelta(hours=15))  # 2026-11-23 01:00 in Shanghai
    later = post(client, desk, complaint()).json

    found = client.get("/complaints?received_from=2026-11-23&received_to=2026-11-23", headers=desk).json

    assert [item["id"] for item in found["items"]] == [later["id"]]


def test_the_list_gives_the_complaints_asked_for_by_id_within_the_callers_floors(client, desk, tokens):
    first = post(client, desk, complaint()).json
    post(client, desk, complaint())
    third = post(client, desk, complaint()).json
    elsewhere = post(client, desk, complaint(floor="2F", merchant_code="M-2F-001")).json
    supervisor = bearer(tokens, "floor_supervisor", floors=["3F"])

    asked = f"/complaints?id={first['id']}&id={third['id']}&id={elsewhere['id']}"
    found = client.get(asked, headers=supervisor).json["items"]
    too_many = "&".join(f"id={uuid.uuid4()}" for _ in range(51))

    assert sorted(item["id"] for item in found) == sorted([first["id"], third["id"]])
    assert "id" in client.get(f"/complaints?{too_many}", headers=desk).json["errors"]["query"]
    assert "id" in client.get("/complaints?id=TS-20261122-0001", headers=desk).json["errors"]["query"]


def test_bad_list_arguments_are_refused_naming_them(client, desk):
    assert "limit" in client.get("/complaints?limit=0", headers=desk).json["errors"]["query"]
    assert "cursor" in client.get("/complaints?cursor=garbage", headers=desk).json["errors"]["query"]
    assert "colour" in client.get("/complaints?colour=red", headers=desk).json["errors"]["query"]


def test_a_floor_supervisor_sees_only_its_floors_with_personal_data_masked(client, desk, tokens):
    on_third = post(client, desk, complaint()).json
    on_second = post(client, desk, complaint(floor="2F", merchant_code="M-2F-001")).json
    supervisor = bearer(tokens, "floor_supervisor", floors=["3F"])

    listed = client.get("/complaints", headers=supervisor).json["items"]
    hidden = client.get(f"/complaints/{on_second['id']}", headers=supervisor)

    assert [item["id"] for item in listed] == [on_third["id"]]
    assert listed[0]["customer"] == {
        **listed[0]["customer"],
        "name": "王**",
        "phone": "139****5678",
        "masked": True,
    }
    assert hidden.status_code == 404


def test_a_customer_s_name_cleared_by_a_correction_stays_masked_in_what_was_written_before(
    client, desk, tokens
):
    record = post(client, desk, complaint(description="店员对王女士态度恶劣，联系13912345678")).json
    cleared = client.patch(
        f"/complaints/{record['id']}",
        json={"reason": "顾客要求不留姓名", "customer": {"name": None}},
        headers=desk,
    )
    ops = bearer(tokens, "operations_manager")

    one = client.get(f"/complaints/{record['id']}", headers=ops).json
    listed = client.get("/complaints", headers=ops).json["items"]
    found = client.get("/complaints/search?q=态度恶劣", headers=ops).json["items"]

    assert cleared.status_code == 200 and cleared.json["customer"]["name"] is None
    for shown in (one, *listed, *found):
        assert "王女士" not in shown["description"] and "13912345678" not in shown["description"]
    assert (
        "王女士" in client.get(f"/complaints/{record['id']}", headers=desk).json["description"]
    )  # as written


def test_a_correction_keeps_the_old_values_and_recomputes_severity(client, desk, intake):
    record = post(client, desk, complaint()).json
    correction = {"reason": "顾客补充：有人受伤", "injury": True, "customer": {"name": "王丽"}}

    response = client.patch(f"/complaints/{record['id']}", json=correction, headers=desk)
    history = client.get(f"/complaints/{record['id']}/history", headers=desk).json

    assert response.status_code == 200, response.json
    assert response.json["severity"] == "major" and response.json["version"] == 2
    assert response.json["number"] == record["number"]
    [entry] = history
    assert entry["reason"] == "顾客补充：有人受伤" and entry["changed_by"] == "desk"
    assert entry["changes"]["injury"] == {"old": False, "new": True}
    assert entry["changes"]["severity"] == {"old": "normal", "new": "major"}
    assert entry["changes"]["customer.name"] == {"old": "王女士", "new": "王丽"}
    assert [row["routing_key"] for row in outbox_rows(intake)] == [
        "complaint.received",
        "complaint.corrected",
    ]


def test_a_correction_that_breaks_a_rule_is_refused_and_changes_nothing(client, desk, intake):
    record = post(client, desk, complaint()).json

    response = client.patch(
        f"/complaints/{record['id']}", json={"reason": "楼层写错", "floor": "2F"}, headers=desk
    )

    assert response.status_code == 400
    assert "merchant_code" in response.json["errors"]["json"]
    assert client.get(f"/complaints/{record['id']}", headers=desk).json == record
    assert len(outbox_rows(intake)) == 1


def test_a_correction_needs_a_reason_and_a_field_and_cannot_change_the_number(client, desk):
    record = post(client, desk, complaint()).json
    url = f"/complaints/{record['id']}"

    assert "reason" in client.patch(url, json={"injury": True}, headers=desk).json["errors"]["json"]
    assert client.patch(url, json={"reason": "nothing"}, headers=desk).status_code == 400
    assert (
        "number"
        in client.patch(url, json={"reason": "x", "number": "TS-1"}, headers=desk).json["errors"]["json"]
    )


def test_the_public_web_form_records_a_complaint_without_login(client, intake):
    body = {
        "category": "environment",
        "customer": {"name": "陈先生", "phone": "13700001111"},
        "description": "五楼洗手间没有纸巾",
        "floor": "5F",
        "consent": True,
    }

    response = client.post("/public/complaints", json=body)

    assert response.status_code == 201, response.json
    assert set(response.json) == {"number", "received_at", "promised_reply_date", "upload_token"}
    [event] = outbox_rows(intake)
    assert event["envelope"]["payload"]["channel"] == "web"
    assert event["envelope"]["actor"]["id"] == "public-web-form"


@pytest.mark.parametrize("consent", [None, False, "true", 1])
def test_the_public_web_form_without_the_customers_consent_is_refused_naming_consent_and_records_nothing(
    client, intake, desk, consent
):
    body = {key: value for key, value in WEB_COMPLAINT.items() if key != "consent"}
    if consent is not None:
        body["consent"] = consent

    response = client.post("/public/complaints", json=body)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == ["consent"]
    assert outbox_rows(intake) == []
    assert client.get("/complaints", headers=desk).json["items"] == []


def test_the_public_web_form_is_told_of_a_refused_consent_and_a_broken_rule_at_once(client, intake):
    body = {**WEB_COMPLAINT, "consent": False, "floor": "9F"}  # the schema's field, and a rule's

    response = client.post("/public/complaints", json=body)

    assert response.status_code == 400, response.json
    assert set(response.json["errors"]["json"]) == {"consent", "floor"}
    assert outbox_rows(intake) == []


def test_the_record_keeps_when_the_customer_consented_on_the_web_form_and_a_desk_record_says_not_asked(
    client, desk, clock
):
    sent = client.post("/public/complaints", json=WEB_COMPLAINT).json
    recorded = post(client, desk, complaint()).json

    read = client.get(f"/complaints/by-number/{sent['number']}", headers=desk).json
    assert read["consented_at"] == clock.now().isoformat()
    assert recorded["consented_at"] is None


def test_the_form_page_shows_the_notice_with_the_retention_period_from_the_setting(settings, clock, intake):
    from dataclasses import replace

    from services.intake.app import create_app

    chinese = create_app(intake).test_client().get("/form").get_data(as_text=True)
    english = create_app(intake).test_client().get("/form?lang=en").get_data(as_text=True)
    shorter = replace(
        intake, settings=replace(settings, policy=replace(settings.policy, retention=timedelta(days=400)))
    )
    other = create_app(shorter).test_client().get("/form").get_data(as_text=True)

    for part in (
        "个人信息收集告知",
        "姓名、手机号码、电子邮箱",
        "地址",
        "事件经过",
        "受理、处理和答复",
        "回访",
        "服务台",
    ):
        assert part in chinese, part
    assert '<p id="kept">保存期限：投诉结案后保存 2 年（730 天），' in chinese
    assert '<input type="checkbox" name="consent" value="true" required>' in chinese
    assert "2 years (730 days) after your complaint is closed" in english and "service desk" in english
    assert "保存 400 天，" in other and "730" not in other


def test_the_public_web_form_is_rate_limited_per_client(settings, clock):
    from dataclasses import replace

    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    runtime = bootstrap(replace(settings, public_rate_limit="2 per minute"), clock=clock)
    runtime.pool.open(wait=True)
    try:
        client = create_app(runtime).test_client()
        codes = [client.post("/public/complaints", json={}).status_code for _ in range(3)]
    finally:
        runtime.pool.close()

    assert codes == [400, 400, 429]


def test_public_reference_data_lists_shops_without_their_contacts(client):
    reference = client.get("/public/reference").json

    assert {floor["code"] for floor in reference["floors"]} >= {"B1", "1F", "3F"}
    assert reference["merchants"] and "phone" not in reference["merchants"][0]
    assert "person_in_charge" not in reference["merchants"][0]


def test_reference_data_is_edited_by_admins_and_operations_only(client, desk, tokens):
    admin = bearer(tokens, "admin")
    shop = {"shop_name": "新开的茶饮店", "floor": "5F", "person_in_charge": "周经理", "phone": "13600002222"}

    assert client.put("/reference/merchants/M-5F-900", json=shop, headers=desk).status_code == 403
    created = client.put("/reference/merchants/M-5F-900", json=shop, headers=admin)
    bad_floor = client.put("/reference/merchants/M-5F-901", json={**shop, "floor": "99F"}, headers=admin)
    listed = client.get("/reference/merchants?floor=5F", headers=desk).json

    assert created.status_code == 200
    assert bad_floor.status_code == 400 and "floor" in bad_floor.json["errors"]["json"]
    assert "M-5F-900" in {merchant["code"] for merchant in listed}


def test_a_renamed_floor_is_announced_with_every_floor_and_department_by_name(client, intake, tokens):
    """Reporting prints floors and departments by the names intake last announced."""
    renamed = client.put(
        "/reference/floors/3F", json={"name": "三楼", "sort_order": 5}, headers=bearer(tokens, "admin")
    )

    [event] = outbox_rows(intake)
    names = event["envelope"]["payload"]
    assert renamed.status_code == 200 and event["routing_key"] == "reference.changed"
    assert {"code": "3F", "name": "三楼", "name_en": None, "sort_order": 5} in names["floors"]
    assert {"code": "security", "name": "保安部", "name_en": "Security"} in names["departments"]


SHOP = {"shop_name": "新开的茶饮店", "floor": "3F"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/reference/floors/9F", {"name": "九楼", "sort_order": 2.6e-42}, "sort_order"),
        ("/reference/floors/9F", {"name": "九楼", "sort_order": 2.0}, "sort_order"),
        ("/reference/floors/9F", {"name": "九楼", "sort_order": "5"}, "sort_order"),
        ("/reference/floors/9F", {"name": "九楼", "sort_order": 10**9}, "sort_order"),
        ("/reference/merchants/M-3F-902", {**SHOP, "active": 0}, "active"),
        ("/reference/merchants/M-3F-902", {**SHOP, "active": 1}, "active"),
        ("/reference/merchants/M-3F-902", {**SHOP, "active": "yes"}, "active"),
    ],
)
def test_reference_data_takes_a_whole_sort_order_in_range_and_active_as_true_or_false_only(
    client, tokens, path, body, field
):
    admin = bearer(tokens, "admin")

    refused = client.put(path, json=body, headers=admin)
    floors = {floor["code"] for floor in client.get("/reference/floors", headers=admin).json}
    merchants = {shop["code"] for shop in client.get("/reference/merchants", headers=admin).json}

    assert refused.status_code == 400 and list(refused.json["errors"]["json"]) == [field]
    assert "9F" not in floors and "M-3F-902" not in merchants
    assert (
        client.put("/reference/floors/9F", json={"name": "九楼", "sort_order": 9}, headers=admin).status_code
        == 200
    )
    assert (
        client.put(
            path.replace("9F", "8F"), json={**body, field: False if field == "active" else 8}, headers=admin
        ).status_code
        == 200
    )


def test_a_complaint_is_checked_against_reference_changes_made_through_the_api_at_once(client, desk, tokens):
    admin = bearer(tokens, "admin")
    shop = {"shop_name": "新开的茶饮店", "floor": "3F", "person_in_charge": "周经理", "phone": "13600002222"}
    about_new_shop = complaint(merchant_code="M-3F-900")

    before = post(client, desk, about_new_shop)  # also fills intake's reference cache
    assert client.put("/reference/merchants/M-3F-900", json=shop, headers=admin).status_code == 200
    added = post(client, desk, about_new_shop)
    assert (
        client.put("/reference/merchants/M-3F-900", json={**shop, "active": False}, headers=admin).status_code
        == 200
    )
    closed = post(client, desk, about_new_shop)

    assert before.status_code == 400 and "merchant_code" in before.json["errors"]["json"]
    assert added.status_code == 201 and added.json["merchant"]["shop_name"] == "新开的茶饮店"
    assert closed.status_code == 400


def test_errors_are_json_everywhere(client, desk):
    not_found = client.get("/nowhere")
    wrong_method = client.delete("/complaints", headers=desk)
    bad_json = client.post(
        "/complaints", data="{not json", headers={**desk, "Content-Type": "application/json"}
    )
    too_big = client.post(
        "/complaints", data="x" * 300_000, headers={**desk, "Content-Type": "application/json"}
    )

    assert (not_found.status_code, wrong_method.status_code) == (404, 405)
    assert bad_json.status_code == 400 and too_big.status_code == 413
    for response in (not_found, wrong_method, bad_json, too_big):
        assert response.is_json and response.json["code"] == response.status_code
        assert response.headers["X-Correlation-ID"]


def test_a_correlation_id_sent_by_the_caller_is_echoed_and_stored_on_the_event(client, desk, intake):
    response = post(client, desk, complaint(), extra={"X-Correlation-ID": "desk-terminal-0042"})

    assert response.headers["X-Correlation-ID"] == "desk-terminal-0042"
    assert outbox_rows(intake)[0]["envelope"]["correlation_id"] == "desk-terminal-0042"


def test_health_and_readiness_probes_answer(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready", "checks": {"database": "ok"}}


def test_liveness_fails_when_a_worker_beside_the_api_has_stopped(client):
    """An API served with --no-workers runs its relay beside it: a relay that died is a restart."""
    add_liveness(client.application, lambda: {"outbox-relay-intake": "stopped"})

    answer = client.get("/healthz")

    assert answer.status_code == 503
    assert answer.json == {"status": "not ok", "checks": {"outbox-relay-intake": "stopped"}}


def test_readiness_fails_when_the_database_does_not_answer(settings, clock):
    from dataclasses import replace

    from services.intake.app import create_app
    from services.intake.bootstrap import bootstrap

    runtime = bootstrap(replace(settings, database_url="postgresql://postgres@127.0.0.1:1/none"), clock=clock)
    response = create_app(runtime).test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["status"] == "not ready"


def test_the_openapi_document_describes_every_route(client):
    spec = client.get("/openapi.json").json

    assert {"/complaints", "/complaints/{complaint_id}", "/public/complaints"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/public/complaints"]["post"]["security"] == []


# Regressions found by tests/e2e/test_openapi_fuzz.py.


def test_a_wrong_method_is_answered_with_the_methods_allowed(client, desk):
    response = client.delete("/complaints", headers=desk)

    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


WEB_COMPLAINT = {
    "category": "environment",
    "customer": {"name": "陈先生", "phone": "13700001111"},
    "description": "五楼洗手间没有纸巾",
    "consent": True,
}


@pytest.mark.parametrize(
    ("method", "url", "body", "where"),
    [
        ("post", "/complaints", complaint(description="坏了\x00"), ("json", "description")),
        (
            "post",
            "/complaints",
            complaint(customer={"name": "王\x00", "phone": "13912345678"}),
            ("json", "customer", "name"),
        ),
        ("post", "/public/complaints", {**WEB_COMPLAINT, "floor": "5F\x00"}, ("json", "floor")),
        ("get", "/complaints?floor=3F%00", None, ("query", "floor")),
        ("get", "/reference/merchants?floor=%00", None, ("query", "floor")),
        ("put", "/reference/floors/9F", {"name": "九楼\x00"}, ("json", "name")),
    ],
)
def test_text_holding_a_nul_character_is_refused_naming_the_field(client, tokens, method, url, body, where):
    staff = bearer(tokens, "service_desk", "admin")

    response = getattr(client, method)(url, json=body, headers=staff)

    assert response.status_code == 400, response.json
    node = response.json["errors"]
    for key in where:
        node = node[key]
    assert node


def test_a_correction_holding_a_nul_character_is_refused_and_changes_nothing(client, desk):
    record = post(client, desk, complaint()).json

    response = client.patch(f"/complaints/{record['id']}", json={"reason": "改\x00"}, headers=desk)

    assert response.status_code == 400 and "reason" in response.json["errors"]["json"]
    assert client.get(f"/complaints/{record['id']}", headers=desk).json == record


def test_a_number_holding_a_nul_character_is_simply_not_found(client, desk):
    assert client.get("/complaints/by-number/TS%00", headers=desk).status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "body", "where"),
    [
        ("post", "/complaints", complaint(description="   "), "description"),
        ("put", "/reference/floors/6F", {"name": "  ", "sort_order": 8}, "name"),
        ("put", "/reference/floors/6F", {"name": "六楼\u202e", "sort_order": 8}, "name"),
        ("post", "/reply-templates", {"category": "quality", "title": "a\nb", "body": "已处理"}, "title"),
    ],
)
def test_a_blank_text_or_a_name_that_is_not_one_line_is_refused_naming_it(
    client, tokens, method, url, body, where
):
    staff = {**bearer(tokens, "service_desk", "admin", "operations_manager"), "Accept-Language": "zh-CN"}

    response = getattr(client, method)(url, json=body, headers=staff)

    assert response.status_code == 400, response.json
    assert list(response.json["errors"]["json"]) == [where]
    assert response.json["errors"]["json"][where][0] in (
        "不能为空",
        "须为一行文字，不能为空，也不能含控制字符",
    )


def test_a_correction_or_a_merge_needs_a_reason_that_is_not_blank(client, desk):
    record = post(client, desk, complaint()).json
    other = post(client, desk, complaint()).json

    corrected = client.patch(
        f"/complaints/{record['id']}", json={"reason": "   ", "amount": "1.00"}, headers=desk
    )
    merged = client.post(
        f"/complaints/{record['id']}/merge", json={"merged_ids": [other["id"]], "reason": " "}, headers=desk
    )

    assert corrected.status_code == merged.status_code == 400
    assert list(corrected.json["errors"]["json"]) == ["reason"] and list(merged.json["errors"]["json"]) == [
        "reason"
    ]
    assert client.get(f"/complaints/{record['id']}", headers=desk).json == record


ZH_UNPAIRED = "含有无法保存的字符（单独的 UTF-16 代理项 \\ud800-\\udfff），请删去后重试"


@pytest.mark.parametrize("url", ["/complaints", "/public/complaints"])
def test_half_a_surrogate_pair_is_refused_naming_the_field_and_takes_no_number(client, desk, url):
    body = complaint() if url == "/complaints" else dict(WEB_COMPLAINT)
    raw = json.dumps({**body, "customer": {**body["customer"], "name": "王"}}).replace("\\u738b", "\\ud800")
    headers = {**desk, "Content-Type": "application/json", "Accept-Language": "zh-CN"}

    refused = client.post(url, data=raw, headers=headers)
    recorded = client.post(url, json=body, headers=desk)

    assert refused.status_code == 400, refused.json
    assert refused.json["errors"]["json"] == {"customer": {"name": [ZH_UNPAIRED]}}
    assert "UTF-16" in refused.json["message"] and "代理项" in refused.json["message"]
    assert recorded.status_code == 201 and recorded.json["number"].endswith("-0001")  # no number taken


def test_a_forged_cursor_naming_no_complaint_id_is_refused(client, desk):
    forged = base64.urlsafe_b64encode(json.dumps(["2026-11-22T00:00:00+00:00", "not-an-id"]).encode())

    response = client.get(f"/complaints?cursor={forged.decode()}", headers=desk)

    assert response.status_code == 400
    assert "cursor" in response.json["errors"]["query"]


@pytest.mark.parametrize(
    ("correction", "field", "old", "new"),
    [
        ({"category": "quality"}, "category", "merchant_service", "quality"),
        (
            {"customer_request": ["refund", "apology"]},
            "customer_request",
            ["exchange"],
            ["refund", "apology"],
        ),
        (
            {"customer": {"preferred_reply_channel": "sms"}},
            "customer.preferred_reply_channel",
            "phone",
            "sms",
        ),
    ],
)
def test_a_field_with_fixed_choices_can_be_corrected(client, desk, correction, field, old, new):
    record = post(client, desk, complaint()).json

    response = client.patch(
        f"/complaints/{record['id']}", json={"reason": "录入有误", **correction}, headers=desk
    )
    history = client.get(f"/complaints/{record['id']}/history", headers=desk).json

    assert response.status_code == 200, response.json
    shown = response.json
    for key in field.split("."):
        shown = shown[key]
    assert shown == new
    assert history[0]["changes"][field] == {"old": old, "new": new}


def test_the_openapi_document_lists_the_errors_each_operation_answers(client):
    paths = client.get("/openapi.json").json["paths"]

    def answers(path, method):
        return set(paths[path][method]["responses"])

    assert answers("/complaints", "post") == {"201", "400", "401", "403", "409", "413", "415"}
    assert answers("/complaints/{complaint_id}", "get") == {"200", "401", "403", "404"}
    assert answers("/complaints/{complaint_id}", "patch") == {"200", "400", "401", "403", "404", "413", "415"}
    assert answers("/public/complaints", "post") == {"201", "400", "409", "413", "415", "429"}
    assert answers("/public/reference", "get") == {"200"}
    operations = [op for item in paths.values() for key, op in item.items() if key != "parameters"]
    assert not [op for op in operations if "default" in op["responses"]]  # no catch-all status


def test_amounts_are_documented_as_the_decimal_strings_they_are(client, desk):
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    record = post(client, desk, complaint(amount="399.5")).json

    for name in ("ComplaintIn", "CorrectionIn", "ComplaintOut"):
        amount = schemas[name]["properties"]["amount"]
        assert (amount["type"], amount["format"]) == ("string", "decimal")
        assert "minimum" not in amount and "maximum" not in amount
    assert record["amount"] == "399.50"


def test_the_ten_thousandth_complaint_of_a_day_gets_a_five_digit_number(client, desk, intake):
    with intake.pool.connection() as conn:
        conn.execute("INSERT INTO intake.number_counters VALUES ('demo', '2026-11-22', 9999)")

    assert post(client, desk, complaint()).json["number"] == "TS-20261122-10000"

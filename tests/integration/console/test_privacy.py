"""Customers' personal information requests (PIPL) through the admin's console pages, every service
taking part: a copy of everything held of a customer as one file, its erasure before the retention
period ends (reporting's counts staying), and the audit of both.

The services run in-process on one database; `mall.settle()` plays the relays, the broker and
notify's workers, so "and then every service heard" is one call.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from tests.integration.console.conftest import ConsoleClient

NAME, PHONE, EMAIL = "王女士", "13912345678", "wang.customer@example.com"
OTHER = {"name": "李先生", "phone": "13600002222", "email": "li@example.cn"}
RESOLUTION = f"已致电{NAME} {PHONE} 同意退款"
PERSONAL = (NAME, PHONE, EMAIL, "139-1234-5678")
# Where each service keeps something of a complaint: (table, column naming the complaint).
PLACES = {
    "intake": [
        ("complaints", "id::text"),
        ("complaint_history", "complaint_id::text"),
        ("outbox", "envelope ->> 'complaint_id'"),
    ],
    "routing": [
        ("cases", "id::text"),
        ("timeline", "case_id::text"),
        ("outbox", "envelope ->> 'complaint_id'"),
    ],
    "notify": [
        ("complaints", "id::text"),
        ("requests", "complaint_id::text"),
        ("deliveries", "complaint_id::text"),
    ],
    "reporting": [("cases", "complaint_id"), ("events", "complaint_id")],
}


@pytest.fixture
def customers(mall):
    """Two complaints of 王女士 (the desk's, corrected, resolved on the floor with her name and phone
    typed in; and one from the web form) and one of 李先生, each heard by every service."""
    first = mall.record(
        customer={"name": NAME, "phone": "139-1234-5678", "email": EMAIL},
        description=f"{NAME}说店员态度恶劣，请回电{PHONE}",
    )
    corrected = mall.api.patch(
        f"/intake/complaints/{first['id']}",
        headers=mall.staff("desk"),
        json={"reason": "顾客补充了地址", "customer": {"address": "上海市静安区某路1号"}},
    )
    assert corrected.status_code == 200, corrected.json
    web = mall.api.post(
        "/intake/public/complaints",
        json={
            "category": "environment",
            "description": "洗手间没有纸",
            "customer": {"name": NAME, "phone": f"+86 {PHONE}"},
            "consent": True,
        },
    )
    assert web.status_code == 201, web.json
    other = mall.record(customer=OTHER, description="李先生说价格标签不对")
    mall.settle()
    _resolve(mall, first["id"])
    return {
        "first": first["id"],
        "web": web.json["number"],
        "other": other["id"],
        "first_number": first["number"],
    }


def _resolve(mall, case_id: str) -> None:
    with mall.runtimes["routing"].uow() as uow:
        [task] = [task for task in uow.tasks.open_for_case(case_id) if task.element_id == "handle_floor"]
    done = mall.api.post(
        f"/routing/tasks/{task.id}/complete",
        headers=mall.staff("floor3"),
        json={"data": {"outcome": "resolved", "resolution": RESOLUTION}},
    )
    assert done.status_code == 200, done.json
    mall.settle()


def admin(browser) -> ConsoleClient:
    client = browser()
    client.login("admin")
    return client


def export(client: ConsoleClient, contact: str, reason: str = "顾客本人到服务台书面申请"):
    return client.form(
        "/console/admin/privacy/export", {"contact": contact, "reason": reason}, page="/console/admin/privacy"
    )


def test_a_copy_by_phone_holds_every_complaint_of_the_customer_with_every_services_part_and_nothing_of_another(
    mall, browser, customers
):
    answer = export(admin(browser), "+86 139 1234 5678")

    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert re.fullmatch(
        r'attachment; filename="personal-data-[0-9a-f]{8}\.json"', answer.headers["Content-Disposition"]
    )
    assert answer.headers["Cache-Control"] == "private, no-store"
    document = json.loads(answer.get_data())
    text = answer.get_data(as_text=True)
    assert [item["number"] for item in document["complaints"]] == [
        customers["first_number"],
        customers["web"],
    ]
    first, web = document["complaints"]
    assert first["intake"]["record"]["customer"]["address"] == "上海市静安区某路1号"
    assert first["intake"]["history"][0]["changes"]["customer.address"]["new"] == "上海市静安区某路1号"
    assert web["intake"]["record"]["consented_at"] and web["intake"]["record"]["channel"] == "web"
    typed = [
        entry["detail"]["data"]["resolution"]
        for entry in first["routing"]["timeline"]
        if entry["kind"] == "task_completed" and entry["element_id"] == "handle_floor"
    ]
    assert typed == [RESOLUTION]
    assert {customer["name"] for customer in first["routing"]["customer"]} == {NAME}
    assert first["notify"]["contact"]["email"] == EMAIL
    assert first["notify"]["deliveries"] and all(
        item["address"] in (PHONE, "139-1234-5678", EMAIL) for item in first["notify"]["deliveries"]
    )
    assert any(item["body_text"] or item["sms_text"] for item in first["notify"]["deliveries"])
    assert web["routing"]["number"] == customers["web"] and web["notify"] is not None
    assert all(value not in text for value in OTHER.values()) and customers["other"] not in text
    assert (
        '"actor"' not in text and '"received_by"' not in text and '"changed_by"' not in text
    )  # staff by role only


def test_a_copy_by_e_mail_finds_the_complaint_that_holds_it(mall, browser, customers):
    document = json.loads(export(admin(browser), "Wang.Customer@Example.com").get_data())

    assert [item["number"] for item in document["complaints"]] == [customers["first_number"]]
    assert document["customer"] == {"contact": "Wang.Customer@Example.com"}


def test_an_unknown_customer_gets_a_file_with_no_complaints(mall, browser, customers):
    answer = export(admin(browser), "13000000000")

    assert answer.status_code == 200 and json.loads(answer.get_data())["complaints"] == []


def test_an_erasure_erases_in_every_service_and_the_workflow_state_while_the_reports_counts_stay(
    mall, browser, customers
):
    ops = mall.staff("ops")
    before = mall.api.get("/reporting/reports/monthly?month=2026-11", headers=ops).json
    client = admin(browser)

    answer = client.form(
        "/console/admin/privacy/erase",
        {"contact": PHONE, "reason": "顾客书面要求删除", "confirm": "yes"},
        page="/console/admin/privacy",
    )
    mall.settle()

    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert customers["first_number"] in re.search(
        r'<p class="notice" id="erased">(.*?)</p>', page, re.S
    ).group(1)
    web = mall.api.get(f"/intake/complaints/by-number/{customers['web']}", headers=mall.staff("desk")).json[
        "id"
    ]
    for complaint_id in (customers["first"], web):
        for schema, text in kept_text(mall, complaint_id).items():
            assert [item for item in PERSONAL if item in text] == [], (schema, complaint_id)
    assert "店员态度恶劣" in kept_text(mall, customers["first"])["intake"]  # the narrative's words stay
    assert [value for value in OTHER.values() if value in kept_text(mall, customers["other"])["intake"]]
    state = workflow_state(mall, customers["first"])
    assert (
        "王女士" not in state
        and PHONE not in state
        and '"resolution": "已致电[已删除] [已删除] 同意退款"' in state
    )
    after = mall.api.get("/reporting/reports/monthly?month=2026-11", headers=ops).json
    assert {key: value for key, value in after.items() if key != "generated_at"} == {
        key: value for key, value in before.items() if key != "generated_at"
    }
    assert answers(mall, customers["first"]) == ["intake", "notify", "routing"]
    case = mall.api.get(f"/routing/cases/{customers['first']}", headers=ops)
    assert case.status_code == 200 and case.json["status"] == "running"  # the case goes on, restorable
    assert json.loads(export(client, PHONE).get_data())["complaints"] == []


def test_both_requests_are_audited_and_listed_for_the_admin_in_chinese(mall, browser, customers, clock):
    client = admin(browser)
    export(client, PHONE, reason=f"{NAME}来电要求复制")
    clock.advance(timedelta(minutes=1))  # the newer request is listed first
    client.form(
        "/console/admin/privacy/erase",
        {"contact": EMAIL, "reason": "顾客书面要求删除", "confirm": "yes"},
        page="/console/admin/privacy",
    )

    page = client.get("/console/admin/privacy").get_data(as_text=True)

    kinds = re.findall(r'<li class="card[^"]*" data-id="[^"]+" data-kind="(\w+)">', page)
    assert kinds == ["erasure", "export"]
    assert "删除" in page and "导出副本" in page and "w***@example.com" in page and "139****5678" in page
    assert "王**来电要求复制" in page and NAME not in page and PHONE not in page
    assert "2026年11月22日 10:00" in page and "系统管理员" in page
    page = page.replace(
        ">English</a>", "></a>"
    )  # the switch to English is the one English word meant to be there
    visible = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", page, flags=re.S)
    visible = re.sub(
        r"[\w.*]+@[\w.]+|TS-\d{8}-\d{4}|\badmin\b|\d+\*+\d+", " ", visible
    )  # data: contacts, numbers
    assert re.findall(r"[A-Za-z]{2,}", visible) == []  # no English word, no raw code
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", page)  # no ISO timestamp


def test_an_erasure_not_confirmed_or_without_a_reason_is_refused_naming_it_and_erases_nothing(
    mall, browser, customers
):
    client = admin(browser)

    unconfirmed = client.form(
        "/console/admin/privacy/erase",
        {"contact": PHONE, "reason": "顾客要求"},
        page="/console/admin/privacy",
    )
    no_reason = client.form(
        "/console/admin/privacy/erase",
        {"contact": PHONE, "reason": " ", "confirm": "yes"},
        page="/console/admin/privacy",
    )
    bad_contact = export(client, "王女士")

    assert unconfirmed.status_code == 400 and 'data-field="confirm"' in unconfirmed.get_data(as_text=True)
    assert no_reason.status_code == 400 and 'data-field="reason"' in no_reason.get_data(as_text=True)
    assert bad_contact.status_code == 400 and "请填写顾客的手机号码或电子邮箱" in bad_contact.get_data(
        as_text=True
    )
    assert PHONE in kept_text(mall, customers["first"])["intake"]
    assert 'id="no-requests"' in client.get("/console/admin/privacy").get_data(as_text=True)


@pytest.mark.parametrize("person", ["desk", "ops", "store", "designer"])
def test_no_one_but_an_admin_opens_the_pages_or_asks_the_services(mall, browser, customers, person):
    client = browser()
    client.login(person)
    body = {"contact": PHONE, "reason": "x"}

    pages = [
        client.get("/console/admin/privacy").status_code,
        client.form("/console/admin/privacy/export", body, page="/console/inbox").status_code,
        client.form(
            "/console/admin/privacy/erase", {**body, "confirm": "yes"}, page="/console/inbox"
        ).status_code,
    ]
    apis = [
        mall.api.post("/intake/privacy/exports", json=body, headers=mall.staff(person)).status_code,
        mall.api.post("/intake/privacy/erasures", json=body, headers=mall.staff(person)).status_code,
        mall.api.post(
            "/routing/privacy/exports",
            json={"complaint_ids": [customers["first"]]},
            headers=mall.staff(person),
        ).status_code,
        mall.api.post(
            "/notify/privacy/exports",
            json={"complaint_ids": [customers["first"]]},
            headers=mall.staff(person),
        ).status_code,
    ]

    assert pages == [403] * 3
    assert apis == [403] * 4
    assert PHONE in kept_text(mall, customers["first"])["intake"]


def kept_text(mall, complaint_id: str) -> dict[str, str]:
    """Every row any service keeps of the complaint, as text, by schema (through jsonb, so the
    `\\u` escapes of a `json` column, as routing keeps its state, read as the characters they are)."""
    found = {}
    with mall.runtimes["intake"].pool.connection() as conn:
        for schema, places in PLACES.items():
            rows = [
                row["text"]
                for table, column in places
                for row in conn.execute(
                    f"SELECT row_to_json(t)::jsonb::text AS text FROM {schema}.{table} t WHERE {column} = %s",
                    (complaint_id,),
                )
            ]
            assert rows, schema
            found[schema] = "\n".join(rows)
    return found


def workflow_state(mall, complaint_id: str) -> str:
    with mall.runtimes["routing"].pool.connection() as conn:
        return conn.execute(
            "SELECT state::jsonb::text AS s FROM routing.cases WHERE id = %s", (complaint_id,)
        ).fetchone()["s"]


def answers(mall, complaint_id: str) -> list[str]:
    with mall.runtimes["reporting"].pool.connection() as conn:
        rows = conn.execute(
            "SELECT service FROM reporting.retention_answers WHERE complaint_id = %s ORDER BY service",
            (complaint_id,),
        ).fetchall()
    return [row["service"] for row in rows]

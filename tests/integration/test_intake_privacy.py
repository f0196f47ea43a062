"""Intake's side of customers' personal information requests (PIPL): finding a customer's
complaints by phone or e-mail, its part of the copy, the erasure of its own copy and the request
to the other services, and the audit of both. The whole system's side: tests/integration/console/test_privacy.py."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.integration.conftest import complaint, outbox_rows

NAME, PHONE, EMAIL = "王女士", "13912345678", "Wang.Li@Example.cn"


@pytest.fixture
def admin(tokens) -> dict:
    return bearer(tokens, "admin", subject="root")


def record(client, desk, **customer) -> dict:
    body = complaint(
        customer={"name": NAME, "phone": PHONE, "email": EMAIL, **customer},
        description=f"{NAME}说店员态度恶劣，请回电{PHONE}",
    )
    answer = client.post("/complaints", json=body, headers=desk)
    assert answer.status_code == 201, answer.json
    return answer.json


def export(client, admin, contact: str, reason: str = "顾客到服务台书面申请"):
    return client.post("/privacy/exports", json={"contact": contact, "reason": reason}, headers=admin)


@pytest.mark.parametrize("contact", [PHONE, "+86 139-1234-5678", "0086 139 1234 5678", "wang.li@example.CN"])
def test_a_customer_is_found_by_phone_however_written_or_by_e_mail_in_any_case(client, desk, admin, contact):
    first, second = record(client, desk), record(client, desk, phone="13700001111")
    record(client, desk, name="李先生", phone="13600002222", email="li@example.cn")
    client.patch(
        f"/complaints/{first['id']}",
        json={"reason": "顾客改了名字", "customer": {"name": "王丽"}},
        headers=desk,
    )

    answer = export(client, admin, contact)

    assert answer.status_code == 201, answer.json
    assert answer.headers["Cache-Control"] == "no-store"
    found = [item["number"] for item in answer.json["complaints"]]
    assert found == ([first["number"], second["number"]] if "@" in contact else [first["number"]])
    [mine, *_] = answer.json["complaints"]
    assert mine["record"]["customer"] == {
        **mine["record"]["customer"],
        "name": "王丽",
        "phone": PHONE,
        "masked": False,
    }
    assert PHONE in mine["record"]["description"] and "received_by" not in mine["record"]
    assert mine["history"] == [
        {
            "changed_at": mine["history"][0]["changed_at"],
            "role": "service_desk",
            "reason": "顾客改了名字",
            "changes": {"customer.name": {"old": NAME, "new": "王丽"}},
        }
    ]


def test_an_unknown_customer_gets_an_empty_copy_and_the_request_is_audited_all_the_same(client, desk, admin):
    record(client, desk)

    answer = export(client, admin, "13500000000")

    assert answer.status_code == 201 and answer.json["complaints"] == []
    assert answer.json["request"]["contact"] == "135****0000" and answer.json["request"]["numbers"] == []


def test_every_request_is_audited_newest_first_with_the_customer_masked_even_inside_the_reason(
    client, desk, admin, clock
):
    recorded = record(client, desk)
    export(client, admin, PHONE, reason=f"{NAME}来电 {PHONE} 要求复制")
    clock.advance(__import__("datetime").timedelta(minutes=5))
    erased = client.post(
        "/privacy/erasures", json={"contact": EMAIL, "reason": "顾客书面要求删除"}, headers=admin
    )

    listed = client.get("/privacy/requests", headers=admin).json

    assert erased.status_code == 201, erased.json
    assert [item["kind"] for item in listed["items"]] == ["erasure", "export"]
    newest, oldest = listed["items"]
    assert newest["contact_kind"] == "email" and newest["contact"] == "w***@example.cn"
    assert oldest["contact"] == "139****5678" and oldest["reason"] == "王**来电 139****5678 要求复制"
    assert (oldest["requested_by"], oldest["requested_role"]) == ("root", "admin")
    assert oldest["numbers"] == [recorded["number"]] and oldest["complaint_ids"] == [recorded["id"]]
    assert oldest["requested_at"] == "2026-11-22T02:00:00+00:00" and listed["next_cursor"] is None
    page = client.get("/privacy/requests?limit=1", headers=admin).json
    rest = client.get(f"/privacy/requests?limit=1&cursor={page['next_cursor']}", headers=admin).json
    assert [item["id"] for item in page["items"] + rest["items"]] == [newest["id"], oldest["id"]]


def test_an_erasure_erases_intakes_copy_at_once_and_asks_the_others_with_the_complaints_found(
    client, desk, admin, intake
):
    mine, other = record(client, desk), record(client, desk, name="李先生", phone="13600002222", email=None)

    erased = client.post(
        "/privacy/erasures", json={"contact": PHONE, "reason": "顾客书面要求"}, headers=admin
    ).json

    assert erased["complaint_ids"] == [mine["id"]]
    read = client.get(f"/complaints/{mine['id']}", headers=desk).json
    assert (read["customer"]["name"], read["customer"]["phone"], read["customer"]["email"]) == (
        None,
        None,
        None,
    )
    assert read["description"] == "[已删除]说店员态度恶劣，请回电[已删除]"
    assert client.get(f"/complaints/{other['id']}", headers=desk).json["customer"]["phone"] == "13600002222"
    request = outbox_rows(intake)[-1]
    assert request["routing_key"] == "retention.erasure_requested"
    assert request["envelope"]["payload"] == {
        "complaint_ids": [mine["id"]],
        "reason": "request",
        "request_id": erased["id"],
    }
    assert request["envelope"]["actor"] == {"id": "root", "role": "admin"}
    assert export(client, admin, PHONE).json["complaints"] == []  # nothing left to find


def test_an_erasure_of_an_unknown_customer_erases_nothing_and_asks_nobody(client, desk, admin, intake):
    record(client, desk)
    before = len(outbox_rows(intake))

    erased = client.post(
        "/privacy/erasures", json={"contact": "nobody@example.cn", "reason": "x"}, headers=admin
    )

    assert erased.status_code == 201 and erased.json["complaint_ids"] == []
    assert len(outbox_rows(intake)) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "x"}, "contact"),
        ({"contact": "王女士", "reason": "x"}, "contact"),
        ({"contact": PHONE}, "reason"),
        ({"contact": PHONE, "reason": "  "}, "reason"),
        ({"contact": PHONE, "reason": "a\nb"}, "reason"),
        ({"contact": PHONE, "reason": "x" * 201}, "reason"),
        ({"contact": PHONE, "reason": "x", "phone": PHONE}, "phone"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field_and_nothing_is_audited_or_erased(
    client, desk, admin, body, field
):
    recorded = record(client, desk)

    answers = [
        client.post(path, json=body, headers=admin) for path in ("/privacy/exports", "/privacy/erasures")
    ]

    assert [(answer.status_code, list(answer.json["errors"]["json"])) for answer in answers] == [
        (400, [field])
    ] * 2
    assert client.get("/privacy/requests", headers=admin).json["items"] == []
    assert client.get(f"/complaints/{recorded['id']}", headers=desk).json["customer"]["phone"] == PHONE


@pytest.mark.parametrize("role", ["service_desk", "operations_manager", "store_manager", "service"])
def test_only_an_admin_asks_for_a_copy_or_an_erasure_or_reads_the_audit(client, desk, tokens, role):
    recorded = record(client, desk)
    other = bearer(tokens, role, subject="someone")
    body = {"contact": PHONE, "reason": "x"}

    statuses = [
        client.post("/privacy/exports", json=body, headers=other).status_code,
        client.post("/privacy/erasures", json=body, headers=other).status_code,
        client.get("/privacy/requests", headers=other).status_code,
        client.post("/privacy/exports", json=body).status_code,
    ]

    assert statuses == [403, 403, 403, 401]
    assert client.get(f"/complaints/{recorded['id']}", headers=desk).json["customer"]["phone"] == PHONE

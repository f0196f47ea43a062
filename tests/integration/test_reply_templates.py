"""Canned replies: the operations manager (or an admin) adds, edits, retires and restores them by
category; the desk and the other handlers read those in use; bad input names the field."""

from __future__ import annotations

import pytest

from tests.conftest import bearer

NEW = {"category": "fee", "title": "停车费多收退还", "body": "您好，多收的停车费已原路退还。"}


@pytest.fixture
def ops(tokens):
    return bearer(tokens, "operations_manager", subject="ops")


def test_the_demo_mall_starts_with_templates_for_the_desk_by_category(client, desk):
    found = client.get("/reply-templates?category=merchant_service", headers=desk)

    assert found.status_code == 200
    assert {t["title"] for t in found.json} >= {"商户致歉并办理换货", "商户致歉并退款"}
    assert {t["category"] for t in found.json} == {"merchant_service"}


def test_the_operations_manager_adds_edits_retires_and_restores_a_template(client, ops, desk, clock):
    added = client.post("/reply-templates", json=NEW, headers=ops)
    template_id = added.json["id"]
    edited = client.patch(
        f"/reply-templates/{template_id}", json={"body": "您好，已退还。", "version": 1}, headers=ops
    )
    retired = client.post(f"/reply-templates/{template_id}/retire", headers=ops)
    offered = client.get("/reply-templates?category=fee", headers=desk).json
    kept = client.get("/reply-templates?category=fee&include_retired=true", headers=ops).json
    restored = client.post(f"/reply-templates/{template_id}/restore", headers=ops)
    unchanged = client.patch(  # saved again as it is: no new version
        f"/reply-templates/{template_id}", json={"body": " 您好，已退还。", "version": 4}, headers=ops
    )

    assert added.status_code == 201, added.json
    assert added.json | {"id": 0} == {
        **NEW,
        "id": 0,
        "retired": False,
        "created_by": "ops",
        "created_at": clock.now().isoformat(),
        "updated_at": None,
        "updated_by": None,
        "version": 1,
    }
    assert (
        edited.status_code == 200 and edited.json["body"] == "您好，已退还。" and edited.json["version"] == 2
    )
    assert retired.json["retired"] is True
    assert offered == [] and [t["id"] for t in kept] == [template_id]
    assert restored.json["retired"] is False and restored.json["version"] == 4
    assert unchanged.status_code == 200 and unchanged.json["version"] == 4


def test_an_admin_may_edit_them_too(client, tokens):
    admin = bearer(tokens, "admin", subject="admin")

    assert client.post("/reply-templates", json=NEW, headers=admin).status_code == 201


@pytest.mark.parametrize("role", ["service_desk", "floor_supervisor", "store_manager", "process_designer"])
def test_other_roles_may_not_change_them(client, tokens, ops, role):
    template_id = client.post("/reply-templates", json=NEW, headers=ops).json["id"]
    other = bearer(tokens, role, subject="someone", floors=["3F"])

    assert client.post("/reply-templates", json=NEW, headers=other).status_code == 403
    assert (
        client.patch(f"/reply-templates/{template_id}", json={"title": "x"}, headers=other).status_code == 403
    )
    assert client.post(f"/reply-templates/{template_id}/retire", headers=other).status_code == 403


def test_nobody_reads_them_without_a_token(client):
    assert client.get("/reply-templates").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "category": "weather"}, "category"),
        ({**NEW, "title": "   "}, "title"),
        ({**NEW, "title": "长" * 61}, "title"),
        ({**NEW, "body": ""}, "body"),
        ({**NEW, "body": "字" * 2001}, "body"),
        ({"category": "fee", "body": "x"}, "title"),
        ({**NEW, "mall_id": "other"}, "mall_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(client, ops, body, field):
    answer = client.post("/reply-templates", json=body, headers=ops)
    after = client.get("/reply-templates?category=fee&include_retired=true", headers=ops).json

    assert answer.status_code == 400
    assert field in answer.json["errors"]["json"]
    assert after == []


def test_a_title_in_use_in_its_category_is_refused_but_free_in_another(client, ops):
    client.post("/reply-templates", json=NEW, headers=ops)

    again = client.post("/reply-templates", json=NEW, headers=ops)
    elsewhere = client.post("/reply-templates", json={**NEW, "category": "facility"}, headers=ops)

    assert again.status_code == 400 and list(again.json["errors"]["json"]) == ["title"]
    assert elsewhere.status_code == 201


def test_a_change_made_meanwhile_is_refused_and_an_unknown_template_is_not_found(client, ops):
    template_id = client.post("/reply-templates", json=NEW, headers=ops).json["id"]
    client.patch(f"/reply-templates/{template_id}", json={"title": "新标题"}, headers=ops)

    stale = client.patch(
        f"/reply-templates/{template_id}", json={"body": "旧版本上的修改", "version": 1}, headers=ops
    )
    missing = client.patch("/reply-templates/999999", json={"title": "x"}, headers=ops)

    assert stale.status_code == 409
    assert missing.status_code == 404
